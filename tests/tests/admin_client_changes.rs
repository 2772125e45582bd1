//! Changing and removing clients through `/admin/v1/clients/{id}`: merge patches validated
//! like registrations, `If-Match` (428 without, 412 when stale), removal that takes the
//! client's tokens with it, and no escalation through a client's admin scopes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{json, Value};
use tessera_e2e::admin::problem;
use tessera_e2e::admin_clients::{fields, service_registration, web_registration, CLIENTS_RW};
use tessera_e2e::{engines, TestServer};

async fn patch(
    server: &TestServer,
    token: &str,
    id: &str,
    if_match: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let headers: Vec<(&str, &str)> = if_match.map(|tag| ("if-match", tag)).into_iter().collect();
    let path = format!("/clients/{id}");
    server
        .admin_with(Method::PATCH, Some(token), &path, Some(body), &headers)
        .await
}

async fn delete(
    server: &TestServer,
    token: Option<&str>,
    id: &str,
    if_match: Option<&str>,
) -> reqwest::Response {
    let headers: Vec<(&str, &str)> = if_match.map(|tag| ("if-match", tag)).into_iter().collect();
    let path = format!("/clients/{id}");
    server
        .admin_with(Method::DELETE, token, &path, None, &headers)
        .await
}

/// RFC 7396: members left out stay, `null` clears an optional member; the version moves on
/// and the old `ETag` no longer matches (RFC 9110 §13.1.1, 412); none at all is 428.
#[tokio::test]
async fn a_patch_merges_and_needs_the_current_etag() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let mut body = web_registration("Shop");
        body["backchannel_logout_uri"] = json!("https://shop.example/bcl");
        let created = server.register_via_api(&token, &body).await;
        let id = created["client"]["client_id"].as_str().unwrap().to_string();

        let change = json!({ "name": "Shop 2", "backchannel_logout_uri": null, "mfa": "optional" });
        let response = patch(&server, &token, &id, None, &change).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 428);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:precondition-required"
        );

        let response = patch(&server, &token, &id, Some("\"1\""), &change).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["etag"], "\"2\"");
        let client: Value = response.json().await.unwrap();
        assert_eq!(client["name"], "Shop 2");
        assert_eq!(client["backchannel_logout_uri"], Value::Null);
        assert_eq!(client["mfa"], "optional");
        assert_eq!(client["redirect_uris"], created["client"]["redirect_uris"]);
        assert_eq!(client["scope"], "openid profile");
        assert_eq!(client["version"], 2);
        let (outcome, _, detail) = server.last_event("admin.client.update").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["target"], json!({ "client_id": id }));

        let response = patch(&server, &token, &id, Some("\"1\""), &change).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 412);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:precondition-failed"
        );
        let (outcome, _, detail) = server.last_event("admin.client.update").await;
        assert_eq!(
            (outcome.as_str(), &detail["status"]),
            ("failure", &json!(412))
        );

        let response = patch(&server, &token, "nope", Some("\"1\""), &change).await;
        assert_eq!(problem(response).await.0, 404);
        server.stop().await;
    }
}

/// A patch is validated as a whole registration: every offending field is named, `name`
/// cannot be null, the type cannot change, and keys cannot turn a secret client into a
/// `private_key_jwt` one.
#[tokio::test]
async fn a_patch_names_every_offending_field() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let created = server
            .register_via_api(&token, &web_registration("Shop"))
            .await;
        let id = created["client"]["client_id"].as_str().unwrap();

        let change = json!({
            "name": null,
            "grant_types": ["authorization_code", "implicit"],
            "redirect_uris": ["http://shop.example/cb"],
            "refresh_token_ttl": 60,
        });
        let response = patch(&server, &token, id, Some("\"1\""), &change).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(
            fields(&problem_body),
            [
                "/name",
                "/grant_types/1",
                "/redirect_uris/0",
                "/refresh_token_idle_ttl"
            ]
        );

        let keyed = json!({ "jwks_uri": "https://shop.example/jwks" });
        let response = patch(&server, &token, id, Some("\"1\""), &keyed).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(fields(&problem_body), ["/jwks_uri"]);

        let retyped = json!({ "type": "public" });
        let response = patch(&server, &token, id, Some("\"1\""), &retyped).await;
        assert_eq!(problem(response).await.0, 400);

        // Nothing changed.
        let response = server
            .admin(Method::GET, Some(&token), &format!("/clients/{id}"), None)
            .await;
        assert_eq!(response.headers()["etag"], "\"1\"");
        server.stop().await;
    }
}

/// 401 and 403 for updates; a patch that adds admin scopes the caller lacks, or that
/// touches a client holding such scopes, is escalation (403).
#[tokio::test]
async fn a_patch_cannot_hand_out_admin_scopes_the_caller_lacks() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let created = server
            .register_via_api(&token, &service_registration("Robot", "api.read"))
            .await;
        let id = created["client"]["client_id"].as_str().unwrap();

        let grab = json!({ "scope": "api.read admin:keys:write" });
        let response = patch(&server, &token, id, Some("\"1\""), &grab).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(problem_body["type"], "urn:tessera:problem:escalation");
        assert!(problem_body["detail"]
            .as_str()
            .unwrap()
            .contains("admin:keys:write"));

        // A client that already holds a right the caller lacks cannot be changed by it.
        let (_, keys_admin) = server
            .service_token("admin:clients:read admin:clients:write admin:keys:write")
            .await;
        let mighty = server
            .register_via_api(
                &keys_admin,
                &service_registration("Keys", "admin:keys:write"),
            )
            .await;
        let mighty_id = mighty["client"]["client_id"].as_str().unwrap();
        let rename = json!({ "name": "Mine now" });
        let response = patch(&server, &token, mighty_id, Some("\"1\""), &rename).await;
        assert_eq!(problem(response).await.0, 403);
        let response = patch(&server, &keys_admin, mighty_id, Some("\"1\""), &rename).await;
        assert_eq!(response.status(), 200);

        let response = server
            .admin(
                Method::PATCH,
                None,
                &format!("/clients/{id}"),
                Some(&rename),
            )
            .await;
        assert_eq!(problem(response).await.0, 401);
        let (_, read_only) = server.service_token("admin:clients:read").await;
        let response = patch(&server, &read_only, id, Some("\"1\""), &rename).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:insufficient-scope"
        );
        server.stop().await;
    }
}

/// Removing a client ends what it was given: its access token stops working at once, its
/// secret no longer authenticates, and it is gone from reads. 428 and 412 guard it; a
/// second removal is 404.
#[tokio::test]
async fn deleting_a_client_ends_its_tokens() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let created = server
            .register_via_api(
                &token,
                &service_registration("Doomed", "admin:clients:read"),
            )
            .await;
        let id = created["client"]["client_id"].as_str().unwrap().to_string();
        let secret = created["client_secret"].as_str().unwrap().to_string();
        let doomed = server
            .service_access_token(&id, &secret, "admin:clients:read")
            .await;
        let me = server.admin(Method::GET, Some(&doomed), "/me", None).await;
        assert_eq!(me.status(), 200);

        assert_eq!(
            problem(delete(&server, Some(&token), &id, None).await)
                .await
                .0,
            428
        );
        let stale = delete(&server, Some(&token), &id, Some("\"7\"")).await;
        assert_eq!(problem(stale).await.0, 412);
        assert_eq!(
            problem(delete(&server, None, &id, Some("\"1\"")).await)
                .await
                .0,
            401
        );
        let (_, read_only) = server.service_token("admin:clients:read").await;
        let refused = delete(&server, Some(&read_only), &id, Some("\"1\"")).await;
        assert_eq!(problem(refused).await.0, 403);

        let response = delete(&server, Some(&token), &id, Some("\"1\"")).await;
        assert_eq!(response.status(), 204);
        let (outcome, _, detail) = server.last_event("admin.client.delete").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["target"], json!({ "client_id": id }));
        assert_eq!(detail["removed"]["access_tokens"], 1);

        let me = server.admin(Method::GET, Some(&doomed), "/me", None).await;
        assert_eq!(problem(me).await.0, 401);
        let response = server
            .client_credentials(&id, &secret, "admin:clients:read")
            .await;
        assert_eq!(response.status(), 401);
        let read = server
            .admin(Method::GET, Some(&token), &format!("/clients/{id}"), None)
            .await;
        assert_eq!(problem(read).await.0, 404);
        let again = delete(&server, Some(&token), &id, Some("*")).await;
        assert_eq!(problem(again).await.0, 404);
        server.stop().await;
    }
}
