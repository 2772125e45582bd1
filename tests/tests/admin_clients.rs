//! `/admin/v1/clients` (issue 5, "Clients"): registration with the secret shown once,
//! reading without secrets, listing by pages, merge-patch updates and removal behind
//! `If-Match`, no escalation through admin scopes, and an audit event for every call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{json, Value};
use tessera_e2e::admin::problem;
use tessera_e2e::admin_clients::{fields, service_registration, web_registration, CLIENTS_RW};
use tessera_e2e::{engines, TestServer};

async fn get(server: &TestServer, token: Option<&str>, path: &str) -> reqwest::Response {
    server.admin(Method::GET, token, path, None).await
}

/// Registration answers 201 with `Location`, `ETag` and the secret, uncached; the secret
/// works at the token endpoint; a read shows the client and never the secret.
#[tokio::test]
async fn a_confidential_client_is_registered_and_its_secret_shown_once() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (admin, token) = server.service_token(CLIENTS_RW).await;
        let body = json!({
            "name": "Billing",
            "type": "confidential",
            "redirect_uris": ["https://billing.example/cb"],
            "post_logout_redirect_uris": ["https://billing.example/bye"],
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "scope": "openid profile api.read",
            "refresh_token_ttl": 86400,
            "refresh_token_idle_ttl": 3600,
            "access_token_ttl": 120,
            "id_token_signed_response_alg": "ES256",
            "mfa": "required",
            "first_party": true,
            "backchannel_logout_uri": "https://billing.example/bcl",
        });
        let response = server
            .admin(Method::POST, Some(&token), "/clients", Some(&body))
            .await;
        assert_eq!(response.status(), 201);
        let headers = response.headers().clone();
        let answer: Value = response.json().await.unwrap();
        let id = answer["client"]["client_id"].as_str().unwrap().to_string();
        let secret = answer["client_secret"].as_str().unwrap().to_string();
        assert_eq!(
            headers["location"],
            format!("/admin/v1/clients/{id}").as_str()
        );
        assert_eq!(headers["etag"], "\"1\"");
        assert_eq!(headers["cache-control"], "no-store");
        let client = &answer["client"];
        assert_eq!(client["type"], "confidential");
        assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(client["scope"], "api.read openid profile");
        assert_eq!(client["mfa"], "required");
        assert_eq!(client["id_token_signed_response_alg"], "ES256");
        assert_eq!(client["refresh_token_idle_ttl"], 3600);
        assert_eq!(client["version"], 1);
        assert_eq!(
            client["secret_rotation"],
            json!({ "previous_secret_valid": false, "previous_secret_expires_at": null })
        );

        // The client's own access-token lifetime applies (RFC 6749 §5.1 expires_in).
        let response = server.client_credentials(&id, &secret, "api.read").await;
        let tokens: Value = response.json().await.unwrap();
        assert_eq!(tokens["expires_in"], 120, "{tokens}");

        let response = get(&server, Some(&token), &format!("/clients/{id}")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let text = response.text().await.unwrap();
        assert!(!text.contains(&secret), "{text}");
        assert!(!text.contains("secret_hash"), "{text}");
        let read: Value = serde_json::from_str(&text).unwrap();
        assert!(read.get("client_secret").is_none(), "{read}");
        assert_eq!(read["name"], "Billing");

        let (outcome, user, detail) = server.last_event("admin.client.create").await;
        assert_eq!(outcome, "success");
        assert_eq!(user, None);
        assert_eq!(detail["admin"], format!("client:{}", admin.id));
        assert_eq!(detail["target"], json!({ "client_id": id }));
        let (outcome, _, detail) = server.last_event("admin.client.read").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["target"], json!({ "client_id": id }));
        server.stop().await;
    }
}

/// RFC 8252 §7.1 and §7.3: a native app registers a reverse-DNS private-use scheme and
/// loopback addresses; a public client gets no secret and authenticates with `none`.
#[tokio::test]
async fn a_public_native_client_is_registered_without_a_secret() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let body = json!({
            "name": "Phone",
            "type": "public",
            "redirect_uris": [
                "com.example.phone:/oauth2redirect",
                "http://127.0.0.1/cb",
                "http://[::1]:8080/cb",
                "http://localhost/cb"
            ],
        });
        let answer = server.register_via_api(&token, &body).await;
        assert_eq!(answer["client_secret"], Value::Null);
        assert_eq!(answer["client"]["type"], "public");
        assert_eq!(answer["client"]["token_endpoint_auth_method"], "none");
        assert_eq!(
            answer["client"]["grant_types"],
            json!(["authorization_code"])
        );
        server.stop().await;
    }
}

/// Every offending field is named by its JSON Pointer; an unknown admin scope is refused;
/// a server-owned field cannot be set; the failure is audited.
#[tokio::test]
async fn a_registration_names_every_offending_field() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let body = json!({
            "name": "",
            "type": "public",
            "redirect_uris": [
                "https://ok.example/cb",
                "http://app.example/cb",
                "https://app.example/cb#section",
                "https://app.example/*",
                "myapp:/cb"
            ],
            "grant_types": ["authorization_code", "password", "client_credentials"],
            "scope": "openid admin:users:delete",
            "id_token_signed_response_alg": "none",
            "access_token_ttl": 0,
        });
        let response = server
            .admin(Method::POST, Some(&token), "/clients", Some(&body))
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(problem_body["type"], "urn:tessera:problem:validation");
        assert_eq!(
            fields(&problem_body),
            [
                "/name",
                "/grant_types/1",
                "/grant_types/2",
                "/redirect_uris/1",
                "/redirect_uris/2",
                "/redirect_uris/3",
                "/redirect_uris/4",
                "/id_token_signed_response_alg",
                "/scope",
                "/access_token_ttl",
            ]
        );
        let (outcome, _, detail) = server.last_event("admin.client.create").await;
        assert_eq!(outcome, "failure");
        assert_eq!(detail["status"], 400);

        let mut owned = web_registration("Sneaky");
        owned["client_id"] = json!("chosen-by-me");
        let response = server
            .admin(Method::POST, Some(&token), "/clients", Some(&owned))
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 400);
        assert!(problem_body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("client_id"));
        server.stop().await;
    }
}

/// 401 without a token, 403 with a token lacking `admin:clients:write`.
#[tokio::test]
async fn registration_needs_a_token_with_the_write_scope() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let body = web_registration("App");
        let response = server
            .admin(Method::POST, None, "/clients", Some(&body))
            .await;
        assert_eq!(problem(response).await.0, 401);

        let (_, read_only) = server.service_token("admin:clients:read").await;
        let response = server
            .admin(Method::POST, Some(&read_only), "/clients", Some(&body))
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:insufficient-scope"
        );
        let (outcome, _, detail) = server.last_event("admin.client.create").await;
        assert_eq!(outcome, "failure");
        assert_eq!(detail["reason"], "insufficient_scope");
        server.stop().await;
    }
}

/// Issue 5: an admin cannot grant scopes they do not hold. Registering a client for an
/// admin scope needs that scope; with it, the registration succeeds.
#[tokio::test]
async fn registering_admin_scopes_the_caller_lacks_is_escalation() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let body = service_registration("Robot", "admin:users:write admin:clients:read");
        let response = server
            .admin(Method::POST, Some(&token), "/clients", Some(&body))
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(problem_body["type"], "urn:tessera:problem:escalation");
        let detail = problem_body["detail"].as_str().unwrap();
        assert!(detail.contains("admin:users:write"), "{detail}");
        assert!(!detail.contains("admin:clients:read"), "{detail}");
        let (outcome, _, event) = server.last_event("admin.client.create").await;
        assert_eq!(
            (outcome.as_str(), &event["status"]),
            ("failure", &json!(403))
        );

        let (_, holder) = server
            .service_token("admin:clients:read admin:clients:write admin:users:write")
            .await;
        let answer = server.register_via_api(&holder, &body).await;
        assert_eq!(
            answer["client"]["scope"],
            "admin:clients:read admin:users:write"
        );
        server.stop().await;
    }
}

/// An `Idempotency-Key` retry gets the first answer, secret included, and no second
/// client; the key with another body is refused (422).
#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_gets_the_first_answer() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        let body = web_registration("Once");
        let key = [("idempotency-key", "create-once-1")];
        let first = server
            .admin_with(Method::POST, Some(&token), "/clients", Some(&body), &key)
            .await;
        assert_eq!(first.status(), 201);
        let location = first.headers()["location"].clone();
        let first: Value = first.json().await.unwrap();
        let again = server
            .admin_with(Method::POST, Some(&token), "/clients", Some(&body), &key)
            .await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["location"], location);
        let again: Value = again.json().await.unwrap();
        assert_eq!(first, again);
        assert!(first["client_secret"].is_string());

        let list: Value = get(&server, Some(&token), "/clients?q=once")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1);

        let other = web_registration("Twice");
        let response = server
            .admin_with(Method::POST, Some(&token), "/clients", Some(&other), &key)
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 422);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:idempotency-key-reused"
        );
        server.stop().await;
    }
}

/// Pages follow an opaque cursor to the end; `q` matches names regardless of case; bad
/// parameters are named together; reading needs `admin:clients:read`.
#[tokio::test]
async fn clients_are_listed_by_pages_and_filtered_by_text() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(CLIENTS_RW).await;
        for name in ["Alpha", "Beta", "ALPHABET"] {
            server
                .register_via_api(&token, &web_registration(name))
                .await;
        }

        // Four clients: the three and the caller's own.
        let mut seen = Vec::new();
        let mut path = "/clients?limit=3".to_string();
        loop {
            let page: Value = get(&server, Some(&token), &path)
                .await
                .json()
                .await
                .unwrap();
            let items = page["items"].as_array().unwrap();
            seen.extend(
                items
                    .iter()
                    .map(|c| c["client_id"].as_str().unwrap().to_string()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/clients?limit=3&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 4);
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, seen);

        let page: Value = get(&server, Some(&token), "/clients?q=alpha")
            .await
            .json()
            .await
            .unwrap();
        let mut names: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["ALPHABET", "Alpha"]);
        assert_eq!(page["next_cursor"], Value::Null);
        let (outcome, _, _) = server.last_event("admin.client.list").await;
        assert_eq!(outcome, "success");

        let response = get(&server, Some(&token), "/clients?limit=0&cursor=%21%21").await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(fields(&problem_body), ["cursor", "limit"]);
        let response = get(&server, Some(&token), "/clients?limit=201").await;
        assert_eq!(problem(response).await.0, 400);

        assert_eq!(problem(get(&server, None, "/clients").await).await.0, 401);
        let (_, write_only) = server.service_token("admin:clients:write").await;
        let response = get(&server, Some(&write_only), "/clients").await;
        assert_eq!(problem(response).await.0, 403);
        server.stop().await;
    }
}

/// Reading one client: 404 for an unknown id, 401, 403 without the read scope.
#[tokio::test]
async fn reading_a_client_needs_the_read_scope_and_an_existing_id() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (admin, token) = server.service_token("admin:clients:read").await;
        let path = format!("/clients/{}", admin.id);
        assert_eq!(get(&server, Some(&token), &path).await.status(), 200);

        let (status, problem_body) =
            problem(get(&server, Some(&token), "/clients/nope").await).await;
        assert_eq!(status, 404);
        assert_eq!(problem_body["type"], "urn:tessera:problem:not-found");
        let (outcome, _, detail) = server.last_event("admin.client.read").await;
        assert_eq!(outcome, "failure");
        assert_eq!(detail["target"], json!({ "client_id": "nope" }));

        assert_eq!(problem(get(&server, None, &path).await).await.0, 401);
        let (_, other) = server.service_token("admin:users:read").await;
        assert_eq!(
            problem(get(&server, Some(&other), &path).await).await.0,
            403
        );
        server.stop().await;
    }
}
