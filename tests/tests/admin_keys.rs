//! Signing keys through the admin API (issue 5, "Signing keys: list public parts with
//! status, rotate"): the public parts only, each key's state as OIDC Core §10.1.1 rotation
//! gives it, and rotation as the command line does it, recorded in the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use tessera_e2e::admin::problem;
use tessera_e2e::{engines, http_client, TestServer};

const READ: &str = "admin:keys:read";
const READ_WRITE: &str = "admin:keys:read admin:keys:write";

/// The `kid` in a JWS header (RFC 7515 §4.1.4).
fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

async fn jwks(server: &TestServer) -> Vec<Value> {
    let jwks: Value = reqwest::get(server.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"].as_array().unwrap().clone()
}

async fn keys(server: &TestServer, token: &str) -> Vec<Value> {
    let response = server.admin(Method::GET, Some(token), "/keys", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["next_cursor"], Value::Null);
    body["items"].as_array().unwrap().clone()
}

async fn rotate(server: &TestServer, token: &str, body: &Value) -> reqwest::Response {
    server
        .admin(Method::POST, Some(token), "/keys/rotate", Some(body))
        .await
}

/// The newest audit event of `event_type`, as stored.
async fn newest_event(server: &TestServer, event_type: &str) -> (String, Value) {
    let events = server
        .provider
        .store()
        .recent_audit_events(50)
        .await
        .unwrap();
    let event = events
        .into_iter()
        .find(|e| e.event_type == event_type)
        .unwrap_or_else(|| panic!("no {event_type} event"));
    (event.outcome, serde_json::from_str(&event.detail).unwrap())
}

/// A fresh server holds one active key per algorithm; each is listed with its public JWK as
/// JWKS publishes it (RFC 7517 §4), and no private member (RFC 7518 §6.3.2 `d`, `p`, `q`…).
#[tokio::test]
async fn the_list_shows_each_keys_public_part_and_state() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (client, token) = server.service_token(READ).await;
        let items = keys(&server, &token).await;
        assert_eq!(items.len(), 2);
        let published = jwks(&server).await;
        for key in &items {
            assert_eq!(key["status"], "active");
            assert_eq!(key["retires_at"], Value::Null);
            assert_eq!(key["leaves_jwks_at"], Value::Null);
            let jwk = key["public_jwk"].as_object().unwrap();
            assert_eq!(jwk["kid"], key["kid"]);
            assert_eq!(jwk["alg"], key["alg"]);
            assert_eq!(jwk["use"], "sig");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(!jwk.contains_key(private), "{private} in {jwk:?}");
            }
            assert!(published.contains(&key["public_jwk"]));
        }
        let mut algs: Vec<&str> = items.iter().map(|k| k["alg"].as_str().unwrap()).collect();
        algs.sort_unstable();
        assert_eq!(algs, ["ES256", "RS256"]);
        let kty: Vec<&str> = items
            .iter()
            .map(|k| k["public_jwk"]["kty"].as_str().unwrap())
            .collect();
        assert!(kty.contains(&"RSA") && kty.contains(&"EC"), "{kty:?}");

        let (outcome, detail) = newest_event(&server, "admin.key.list").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["admin"], format!("client:{}", client.id));
        server.stop().await;
    }
}

/// One key by its id; an unknown id is 404, and recorded as a failed read.
#[tokio::test]
async fn a_key_is_read_by_its_id_and_an_unknown_one_is_404() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(READ).await;
        let kid = keys(&server, &token).await[0]["kid"]
            .as_str()
            .unwrap()
            .to_string();
        let response = server
            .admin(Method::GET, Some(&token), &format!("/keys/{kid}"), None)
            .await;
        assert_eq!(response.status(), 200);
        let key: Value = response.json().await.unwrap();
        assert_eq!(key["kid"], kid.as_str());

        let response = server
            .admin(Method::GET, Some(&token), "/keys/no-such-key", None)
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 404);
        assert_eq!(body["type"], "urn:tessera:problem:not-found");
        let (outcome, detail) = newest_event(&server, "admin.key.read").await;
        assert_eq!(outcome, "failure");
        assert_eq!(detail["target"], "no-such-key");
        assert_eq!(detail["status"], 404);
        server.stop().await;
    }
}

/// RFC 6750 §3.1: no token is 401; a token without the scope is 403, for reads and for a
/// rotation, which changes nothing then.
#[tokio::test]
async fn keys_need_a_token_with_the_keys_scopes() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        for path in ["/keys", "/keys/some-kid"] {
            let (status, _) = problem(server.admin(Method::GET, None, path, None).await).await;
            assert_eq!(status, 401);
        }
        let (status, _) = problem(rotate_without_token(&server).await).await;
        assert_eq!(status, 401);

        let (_, auditor) = server.service_token("admin:audit:read").await;
        let response = server
            .admin(Method::GET, Some(&auditor), "/keys", None)
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(body["type"], "urn:tessera:problem:insufficient-scope");

        let (_, reader) = server.service_token(READ).await;
        let (status, body) = problem(rotate(&server, &reader, &json!({})).await).await;
        assert_eq!(status, 403);
        assert!(body["detail"]
            .as_str()
            .unwrap()
            .contains("admin:keys:write"));
        assert_eq!(keys(&server, &reader).await.len(), 2);
        let (outcome, detail) = newest_event(&server, "admin.key.rotate").await;
        assert_eq!(outcome, "failure");
        assert_eq!(detail["reason"], "insufficient_scope");
        server.stop().await;
    }
}

async fn rotate_without_token(server: &TestServer) -> reqwest::Response {
    server
        .admin(Method::POST, None, "/keys/rotate", Some(&json!({})))
        .await
}

/// A rotation publishes the new key at once and signs with it after `key_publish_ahead`
/// (3600 s by default), when the key it replaces retires (OIDC Core §10.1.1). The call and
/// the new key are recorded.
#[tokio::test]
async fn a_rotation_publishes_the_new_key_ahead_of_signing() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (client, token) = server.service_token(READ_WRITE).await;
        let before = keys(&server, &token).await;
        let old = before.iter().find(|k| k["alg"] == "ES256").unwrap().clone();

        let response = rotate(&server, &token, &json!({ "alg": "ES256" })).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let body: Value = response.json().await.unwrap();
        let items = body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        let new = &items[0];
        let kid = new["kid"].as_str().unwrap();
        assert_eq!(location, format!("/admin/v1/keys/{kid}"));
        assert_eq!(new["alg"], "ES256");
        assert_eq!(new["status"], "upcoming");
        let activates_at = new["activates_at"].as_i64().unwrap();
        assert_eq!(activates_at - new["created_at"].as_i64().unwrap(), 3600);

        // Already in JWKS: this instance swapped its keys in after the rotation.
        let published = jwks(&server).await;
        assert!(published.iter().any(|k| k["kid"] == kid));
        let after = keys(&server, &token).await;
        assert_eq!(after.len(), 3);
        let old_now = after.iter().find(|k| k["kid"] == old["kid"]).unwrap();
        assert_eq!(old_now["status"], "active");
        assert_eq!(old_now["retires_at"].as_i64(), Some(activates_at));

        // Tokens are still signed with the old key until the new one activates.
        let (_, fresh) = server.service_token(READ).await;
        assert_eq!(kid_of(&fresh), old["kid"].as_str().unwrap());

        let (outcome, detail) = newest_event(&server, "admin.key.rotate").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["admin"], format!("client:{}", client.id));
        assert_eq!(detail["target"], json!([kid]));
        assert_eq!(detail["danger_activate_immediately"], false);
        let (_, created) = newest_event(&server, "key.created").await;
        assert_eq!(created["kid"], kid);
        assert_eq!(created["reason"], "admin");
        server.stop().await;
    }
}

/// Without `alg` every algorithm rotates; with `danger_activate_immediately` the new keys
/// sign at once, on this instance without waiting for its periodic reload.
#[tokio::test]
async fn an_immediate_rotation_of_every_algorithm_signs_at_once() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(READ_WRITE).await;
        let body = json!({ "danger_activate_immediately": true });
        let response = rotate(&server, &token, &body).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["location"], "/admin/v1/keys");
        let body: Value = response.json().await.unwrap();
        let items = body["items"].as_array().unwrap();
        let mut algs: Vec<&str> = items.iter().map(|k| k["alg"].as_str().unwrap()).collect();
        algs.sort_unstable();
        assert_eq!(algs, ["ES256", "RS256"]);
        assert!(items.iter().all(|k| k["status"] == "active"));

        let new_es256 = items.iter().find(|k| k["alg"] == "ES256").unwrap();
        let (_, fresh) = server.service_token(READ).await;
        assert_eq!(kid_of(&fresh), new_es256["kid"].as_str().unwrap());
        // The caller's own token, signed by the retired key, still works.
        let listed = keys(&server, &token).await;
        assert_eq!(
            listed.iter().filter(|k| k["status"] == "retired").count(),
            2
        );
        server.stop().await;
    }
}

/// Unknown members and values outside the enumeration are refused, naming the field by its
/// JSON Pointer (RFC 6901); a body that is not JSON is 415. Nothing is rotated.
#[tokio::test]
async fn an_invalid_rotation_request_names_the_field() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(READ_WRITE).await;
        let cases = [
            (json!({ "alg": "HS256" }), "/alg"),
            (
                json!({ "danger_activate_immediately": "yes" }),
                "/danger_activate_immediately",
            ),
            (json!({ "kid": "mine" }), "/kid"),
        ];
        for (body, field) in cases {
            let (status, problem_body) = problem(rotate(&server, &token, &body).await).await;
            assert_eq!(status, 400, "{body}");
            assert_eq!(problem_body["errors"][0]["field"], field, "{problem_body}");
        }
        let (status, _) = problem(
            http_client()
                .post(server.url("/admin/v1/keys/rotate"))
                .bearer_auth(&token)
                .body("alg=ES256")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 415);
        assert_eq!(keys(&server, &token).await.len(), 2);
        let (outcome, detail) = newest_event(&server, "admin.key.rotate").await;
        assert_eq!(outcome, "failure");
        assert_eq!(detail["status"], 415);
        server.stop().await;
    }
}

/// draft-ietf-httpapi-idempotency-key-header: a retry with the same key and body gets the
/// first answer and rotates nothing more; the same key with another body is 422.
#[tokio::test]
async fn a_retried_rotation_with_its_idempotency_key_rotates_once() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(READ_WRITE).await;
        let send = |body: &'static str| {
            http_client()
                .post(server.url("/admin/v1/keys/rotate"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .header("idempotency-key", "rotate-2027-01")
                .body(body)
                .send()
        };
        let first = send(r#"{"alg":"RS256"}"#).await.unwrap();
        assert_eq!(first.status(), 201);
        let location = first.headers()["location"].clone();
        let first: Value = first.json().await.unwrap();
        let again = send(r#"{"alg":"RS256"}"#).await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["location"], location);
        assert_eq!(again.json::<Value>().await.unwrap(), first);
        assert_eq!(keys(&server, &token).await.len(), 3);

        let (status, body) = problem(send(r#"{"alg":"ES256"}"#).await.unwrap()).await;
        assert_eq!(status, 422);
        assert_eq!(body["type"], "urn:tessera:problem:idempotency-key-reused");
        assert_eq!(keys(&server, &token).await.len(), 3);
        server.stop().await;
    }
}
