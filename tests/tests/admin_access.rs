//! Who may call the admin API (issue 5, "Who may call it"): 401 without a live token of
//! Tessera's, 403 for a person's token without a second factor or a token without the scope,
//! and rights cut to what the holder holds at the moment of the call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::Value;
use tessera_e2e::admin::{problem, ALL_ADMIN_SCOPES};
use tessera_e2e::{engines, TestServer};

async fn me(server: &TestServer, token: Option<&str>) -> reqwest::Response {
    server.admin(Method::GET, token, "/me", None).await
}

/// The `scope` claim of an access token, read without verification (the test wrote it).
fn access_token_scope(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    claims["scope"].as_str().unwrap().to_string()
}

async fn scopes_of(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    serde_json::from_value(body["scopes"].clone()).unwrap()
}

/// RFC 6750 §3.1: no token, a malformed one, or one that is not Tessera's: 401 with
/// `invalid_token` in the challenge and a problem-details body.
#[tokio::test]
async fn calls_without_a_valid_token_get_401() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        for token in [None, Some("not-a-jwt"), Some("eyJhbGciOiJub25lIn0.e30.")] {
            let response = me(&server, token).await;
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
            let (status, body) = problem(response).await;
            assert_eq!(status, 401);
            assert_eq!(body["type"], "urn:tessera:problem:unauthorized");
        }
        // Every refused call is recorded.
        let events = server
            .provider
            .store()
            .recent_audit_events(10)
            .await
            .unwrap();
        let refused = events
            .iter()
            .filter(|e| e.event_type == "admin.refused" && e.outcome == "failure")
            .count();
        assert_eq!(refused, 3);
        server.stop().await;
    }
}

/// A revoked token is dead for the admin API at once (RFC 7009 §2).
#[tokio::test]
async fn a_revoked_service_token_gets_401() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (client, token) = server.service_token("admin:users:read").await;
        assert_eq!(me(&server, Some(&token)).await.status(), 200);
        assert_eq!(server.revoke(&client, &token).await.status(), 200);
        let (status, _) = problem(me(&server, Some(&token)).await).await;
        assert_eq!(status, 401);
        server.stop().await;
    }
}

/// Automation: a client-credentials token holds the admin scopes its client was registered
/// for and asked for, and nothing else.
#[tokio::test]
async fn a_service_client_holds_the_admin_scopes_it_was_granted() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server
            .service_token("admin:users:read admin:audit:read")
            .await;
        let response = me(&server, Some(&token)).await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["kind"], "client");
        assert_eq!(
            body["scopes"],
            serde_json::json!(["admin:users:read", "admin:audit:read"])
        );
        server.stop().await;
    }
}

/// A person's admin token needs a login with a second factor: the same person with the
/// password alone gets 403 and an explanation.
#[tokio::test]
async fn a_persons_token_without_a_second_factor_gets_403() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let scope = format!("openid {ALL_ADMIN_SCOPES}");
        let admin = server
            .password_only_admin("alice", &["admin"], &scope)
            .await;
        let response = me(&server, Some(&admin.token)).await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(body["type"], "urn:tessera:problem:second-factor-required");
        assert!(body["detail"].as_str().unwrap().contains("second factor"));
        server.stop().await;
    }
}

/// A person holds admin scopes only through roles: with MFA and the `auditor` role, the
/// token carries the auditor's scopes even though the console asked for all of them.
#[tokio::test]
async fn a_person_holds_only_what_their_roles_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let scope = format!("openid {ALL_ADMIN_SCOPES}");
        let auditor = server.admin_person("alice", &["auditor"], &scope).await;
        let scopes = scopes_of(me(&server, Some(&auditor.token)).await).await;
        assert_eq!(
            scopes,
            [
                "admin:users:read",
                "admin:clients:read",
                "admin:keys:read",
                "admin:audit:read"
            ]
        );
        server.stop().await;
    }
}

/// A person without any role gets no admin scope in their token at all.
#[tokio::test]
async fn a_person_without_roles_gets_no_admin_scope() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let scope = format!("openid {ALL_ADMIN_SCOPES}");
        let person = server.admin_person("bob", &[], &scope).await;
        // Not only refused at the call: the token itself never carried them.
        assert_eq!(access_token_scope(&person.token), "openid");
        let scopes = scopes_of(me(&server, Some(&person.token)).await).await;
        assert!(scopes.is_empty(), "{scopes:?}");
        server.stop().await;
    }
}

/// Zero trust: a role taken away takes its scopes from live tokens at the next call.
#[tokio::test]
async fn a_revoked_role_stops_counting_at_the_next_call() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let scope = format!("openid {ALL_ADMIN_SCOPES}");
        let admin = server.admin_person("alice", &["admin"], &scope).await;
        assert_eq!(
            scopes_of(me(&server, Some(&admin.token)).await).await.len(),
            8
        );
        tessera_core::admin::grants::revoke_role(
            server.provider.store(),
            "alice",
            "admin",
            tessera_core::unix_now(),
        )
        .await
        .unwrap();
        assert!(scopes_of(me(&server, Some(&admin.token)).await)
            .await
            .is_empty());
        server.stop().await;
    }
}

/// Unknown admin paths and methods answer problem details, not empty bodies.
#[tokio::test]
async fn unknown_paths_and_methods_answer_problem_details() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (status, body) = problem(server.admin(Method::GET, None, "/nothing", None).await).await;
        assert_eq!(status, 404);
        assert_eq!(body["type"], "urn:tessera:problem:not-found");
        let (status, _) = problem(server.admin(Method::DELETE, None, "/me", None).await).await;
        assert_eq!(status, 405);
        server.stop().await;
    }
}

/// The OpenAPI 3.1 description is served, names the issuer as its server and declares the
/// bearer scheme.
#[tokio::test]
async fn the_openapi_description_is_served() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let response = server.admin(Method::GET, None, "/openapi.json", None).await;
        assert_eq!(response.status(), 200);
        let document: Value = response.json().await.unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["servers"][0]["url"], server.issuer.as_str());
        assert_eq!(
            document["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert!(document["paths"]["/admin/v1/me"]["get"].is_object());
        server.stop().await;
    }
}

/// The description checked into the repository is the one the code generates; regenerate it
/// with `cargo run -p tessera -- admin openapi > docs/admin-openapi.json`.
#[test]
fn the_checked_in_openapi_description_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/admin-openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap();
    let generated = tessera_server::admin_openapi().to_pretty_json().unwrap();
    assert!(
        checked_in.trim_end() == generated.trim_end(),
        "docs/admin-openapi.json is stale: run `cargo run -p tessera -- admin openapi > \
         docs/admin-openapi.json`"
    );
}
