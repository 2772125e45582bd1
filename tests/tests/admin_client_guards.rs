//! Guards on changing clients that carry admin rights (issue 5, "an admin cannot grant
//! scopes they do not hold"; zero trust: a right removed is gone at the next call).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::json;
use tessera_e2e::admin::{problem, ALL_ADMIN_SCOPES};
use tessera_e2e::{engines, TestServer};

const CLIENTS_RW: &str = "admin:clients:read admin:clients:write";

/// A clients-only admin cannot remove a client holding admin scopes it lacks: that would cut
/// the greater admins who call through it off the API.
#[tokio::test]
async fn a_lesser_admin_cannot_remove_a_client_holding_more_rights() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (greater, greater_token) = server.service_token(ALL_ADMIN_SCOPES).await;
        let (_, lesser) = server.service_token(CLIENTS_RW).await;
        let path = format!("/clients/{}", greater.id);

        let response = server
            .admin_with(
                Method::DELETE,
                Some(&lesser),
                &path,
                None,
                &[("if-match", "*")],
            )
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(body["type"], "urn:tessera:problem:escalation");
        let (outcome, _, _) = server.last_event("admin.client.delete").await;
        assert_eq!(outcome, "failure");

        let me = server
            .admin(Method::GET, Some(&greater_token), "/me", None)
            .await;
        assert_eq!(me.status(), 200, "the greater client is untouched");
        server.stop().await;
    }
}

/// A caller cannot remove the client its own token was issued to, nor change that client's
/// scope or grant types (409); other fields of it it may change.
#[tokio::test]
async fn a_caller_cannot_cut_off_its_own_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (own, token) = server.service_token(ALL_ADMIN_SCOPES).await;
        let path = format!("/clients/{}", own.id);
        let if_match = [("if-match", "*")];

        let response = server
            .admin_with(Method::DELETE, Some(&token), &path, None, &if_match)
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 409);
        assert!(body["detail"]
            .as_str()
            .unwrap()
            .contains("another admin client"));

        for patch in [
            json!({"scope": "admin:users:read"}),
            json!({"grant_types": ["authorization_code"], "redirect_uris": ["https://app.example/cb"]}),
        ] {
            let response = server
                .admin_with(Method::PATCH, Some(&token), &path, Some(&patch), &if_match)
                .await;
            let (status, _) = problem(response).await;
            assert_eq!(status, 409, "{patch}");
        }

        let rename = json!({"name": "Renamed automation"});
        let response = server
            .admin_with(Method::PATCH, Some(&token), &path, Some(&rename), &if_match)
            .await;
        assert_eq!(response.status(), 200);
        let me = server.admin(Method::GET, Some(&token), "/me", None).await;
        assert_eq!(me.status(), 200);
        server.stop().await;
    }
}

/// A service token stops counting once its client is no longer registered for the client
/// credentials grant that issued it, before the token expires.
#[tokio::test]
async fn a_service_token_dies_with_its_clients_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (service, service_token) = server.service_token("admin:users:read").await;
        let (_, admin) = server.service_token(ALL_ADMIN_SCOPES).await;
        let me = server
            .admin(Method::GET, Some(&service_token), "/me", None)
            .await;
        assert_eq!(me.status(), 200);

        let patch = json!({
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example/cb"],
        });
        let path = format!("/clients/{}", service.id);
        let response = server
            .admin_with(
                Method::PATCH,
                Some(&admin),
                &path,
                Some(&patch),
                &[("if-match", "*")],
            )
            .await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);

        let (status, _) = problem(
            server
                .admin(Method::GET, Some(&service_token), "/me", None)
                .await,
        )
        .await;
        assert_eq!(status, 401);
        server.stop().await;
    }
}

/// Concurrent changes to different clients all succeed: on SQLite a transaction that reads
/// then writes takes the write lock at its start and waits its turn, rather than failing with
/// "database is locked" (a 500) when another writer committed first.
#[tokio::test]
async fn concurrent_secret_rotations_of_different_clients_all_succeed() {
    for engine in engines() {
        let server = std::sync::Arc::new(TestServer::start(engine).await);
        let (_, admin) = server.service_token(ALL_ADMIN_SCOPES).await;
        let mut ids = Vec::new();
        for _ in 0..12 {
            let (client, _) = server.service_token("admin:users:read").await;
            ids.push(client.id);
        }
        let mut rotations = tokio::task::JoinSet::new();
        for id in ids {
            let (server, admin) = (server.clone(), admin.clone());
            rotations.spawn(async move {
                let body = json!({"grace_period_seconds": 0});
                let path = format!("/clients/{id}/secret");
                let response = server
                    .admin_with(
                        Method::POST,
                        Some(&admin),
                        &path,
                        Some(&body),
                        &[("if-match", "*")],
                    )
                    .await;
                response.status().as_u16()
            });
        }
        let statuses: Vec<u16> = rotations.join_all().await;
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        std::sync::Arc::into_inner(server).unwrap().stop().await;
    }
}
