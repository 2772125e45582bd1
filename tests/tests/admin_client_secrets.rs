//! Secret rotation through `POST /admin/v1/clients/{id}/secret`: the new secret is shown
//! once, the replaced one keeps working at the token, revocation and introspection
//! endpoints until the grace period the caller chose ends, and never after.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tessera_e2e::admin::problem;
use tessera_e2e::admin_clients::{fields, service_registration, test_client, CLIENTS_RW};
use tessera_e2e::{engines, TestClient, TestServer};

async fn rotate(
    server: &TestServer,
    token: Option<&str>,
    id: &str,
    if_match: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let headers: Vec<(&str, &str)> = if_match.map(|tag| ("if-match", tag)).into_iter().collect();
    let path = format!("/clients/{id}/secret");
    server
        .admin_with(Method::POST, token, &path, Some(body), &headers)
        .await
}

/// Registers a service client for `api.read`; the client with its first secret.
async fn service(server: &TestServer, token: &str) -> TestClient {
    let answer = server
        .register_via_api(token, &service_registration("Worker", "api.read"))
        .await;
    test_client(&answer)
}

fn with_secret(client: &TestClient, secret: &str) -> TestClient {
    TestClient {
        secret: Some(secret.to_string()),
        ..client.clone()
    }
}

/// The old secret works at /token, /revoke and /introspect during the grace period, and
/// is refused at /token once it has passed; the new one works throughout.
#[tokio::test]
async fn the_replaced_secret_works_until_the_grace_period_ends() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let old = service(&server, &token).await;
        let old_secret = old.secret.clone().unwrap();

        let body = json!({ "grace_period_seconds": 2 });
        let response = rotate(&server, Some(&token), &old.id, Some("\"1\""), &body).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["etag"], "\"2\"");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let answer: Value = response.json().await.unwrap();
        let new_secret = answer["client_secret"].as_str().unwrap().to_string();
        assert_ne!(new_secret, old_secret);
        let rotation = &answer["client"]["secret_rotation"];
        assert_eq!(rotation["previous_secret_valid"], true);
        let expires_at = rotation["previous_secret_expires_at"].as_i64().unwrap();
        let now = tessera_core::unix_now();
        assert!(
            (now + 1..=now + 2).contains(&expires_at),
            "{expires_at} vs {now}"
        );
        let (outcome, _, detail) = server.last_event("admin.client.rotate_secret").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["grace_period_seconds"], 2);
        assert_eq!(detail["target"], json!({ "client_id": old.id }));

        // Inside the grace period: both secrets authenticate, at every endpoint.
        let access = server
            .service_access_token(&old.id, &old_secret, "api.read")
            .await;
        server
            .service_access_token(&old.id, &new_secret, "api.read")
            .await;
        let introspected = server.introspect(&old, &access).await;
        assert_eq!(introspected["active"], true);
        assert_eq!(server.revoke(&old, &access).await.status(), 200);

        // After it: the old secret is refused (RFC 6749 §5.2 invalid_client), the new works.
        let wait = (expires_at - tessera_core::unix_now() + 1).max(0) as u64;
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let response = server
            .client_credentials(&old.id, &old_secret, "api.read")
            .await;
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        let response = server.revoke(&old, "whatever").await;
        assert_eq!(response.status(), 401);
        let renewed = with_secret(&old, &new_secret);
        assert_eq!(server.revoke(&renewed, "whatever").await.status(), 200);
        server
            .service_access_token(&old.id, &new_secret, "api.read")
            .await;

        let read: Value = server
            .admin(
                Method::GET,
                Some(&token),
                &format!("/clients/{}", old.id),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            read["secret_rotation"],
            json!({ "previous_secret_valid": false, "previous_secret_expires_at": null })
        );
        server.stop().await;
    }
}

/// A grace period of 0 ends the old secret at once.
#[tokio::test]
async fn without_a_grace_period_the_old_secret_ends_now() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let old = service(&server, &token).await;
        let body = json!({ "grace_period_seconds": 0 });
        let response = rotate(&server, Some(&token), &old.id, Some("*"), &body).await;
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            answer["client"]["secret_rotation"]["previous_secret_valid"],
            false
        );
        let response = server
            .client_credentials(&old.id, old.secret.as_deref().unwrap(), "api.read")
            .await;
        assert_eq!(response.status(), 401);
        let new_secret = answer["client_secret"].as_str().unwrap();
        server
            .service_access_token(&old.id, new_secret, "api.read")
            .await;
        server.stop().await;
    }
}

/// Refusals: a grace period out of 0..=30 days (400, named), a client without a secret
/// (409), no or a stale `If-Match` (428, 412), an unknown client (404), no token (401),
/// no write scope (403), and a client holding admin scopes the caller lacks (403
/// escalation: its new secret would be those rights).
#[tokio::test]
async fn rotation_refusals() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let client = service(&server, &token).await;
        let ok = json!({ "grace_period_seconds": 60 });

        for grace in [-1, 2_592_001] {
            let body = json!({ "grace_period_seconds": grace });
            let response = rotate(&server, Some(&token), &client.id, Some("\"1\""), &body).await;
            let (status, problem_body) = problem(response).await;
            assert_eq!(status, 400);
            assert_eq!(fields(&problem_body), ["/grace_period_seconds"]);
        }

        let public = server
            .register_via_api(
                &token,
                &json!({ "name": "Spa", "type": "public", "redirect_uris": ["https://spa.example/cb"] }),
            )
            .await;
        let public_id = public["client"]["client_id"].as_str().unwrap();
        let response = rotate(&server, Some(&token), public_id, Some("\"1\""), &ok).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 409);
        assert!(problem_body["detail"].as_str().unwrap().contains("none"));

        let response = rotate(&server, Some(&token), &client.id, None, &ok).await;
        assert_eq!(problem(response).await.0, 428);
        let response = rotate(&server, Some(&token), &client.id, Some("\"9\""), &ok).await;
        assert_eq!(problem(response).await.0, 412);
        let response = rotate(&server, Some(&token), "nope", Some("\"1\""), &ok).await;
        assert_eq!(problem(response).await.0, 404);
        let response = rotate(&server, None, &client.id, Some("\"1\""), &ok).await;
        assert_eq!(problem(response).await.0, 401);
        let (_, read_only) = server.service_token("admin:clients:read").await;
        let response = rotate(&server, Some(&read_only), &client.id, Some("\"1\""), &ok).await;
        assert_eq!(problem(response).await.0, 403);
        let (outcome, _, detail) = server.last_event("admin.client.rotate_secret").await;
        assert_eq!(
            (outcome.as_str(), &detail["reason"]),
            ("failure", &json!("insufficient_scope"))
        );

        let (mighty, _) = server.service_token("admin:users:write").await;
        let response = rotate(&server, Some(&token), &mighty.id, Some("\"1\""), &ok).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(problem_body["type"], "urn:tessera:problem:escalation");

        // Nothing was rotated by the refusals.
        server
            .service_access_token(&client.id, client.secret.as_deref().unwrap(), "api.read")
            .await;
        server.stop().await;
    }
}
