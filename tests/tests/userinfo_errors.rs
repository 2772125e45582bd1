//! Userinfo under RFC 6750, discovery as published, and the audit trail of the flow.
//!
//! Each test drives a real Tessera over raw HTTP and checks the status, the `error` code
//! the spec names, and whether the browser was sent back to the client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use tessera_e2e::expect::*;
use tessera_e2e::{engines, Browser, TestServer, PASSWORD};

// The userinfo endpoint (RFC 6750).

/// RFC 6750 §3.1: without credentials, a bare challenge with no error code.
#[tokio::test]
async fn userinfo_without_a_token_gets_a_bare_challenge() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let response = reqwest::get(server.url("/userinfo")).await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(challenge(&response), "Bearer realm=\"tessera\"");
        server.stop().await;
    }
}

/// RFC 6750 §3.1: a token that is not ours is `invalid_token`.
#[tokio::test]
async fn userinfo_with_a_garbage_token_is_invalid_token() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let response = userinfo(&server, "not-a-token").await;
        assert_eq!(response.status(), 401);
        let challenge = challenge(&response);
        assert!(
            challenge.starts_with("Bearer realm=\"tessera\""),
            "{challenge}"
        );
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
        server.stop().await;
    }
}

/// RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in each
/// request."
#[tokio::test]
async fn userinfo_with_the_token_in_header_and_body_is_invalid_request() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let access_token = alice_access_token(&server, &client).await;
        let request = reqwest::Client::new().post(server.url("/userinfo"));
        let request = request.bearer_auth(&access_token);
        let form = [("access_token", access_token.as_str())];
        let response = request.form(&form).send().await.unwrap();
        assert_eq!(response.status(), 400);
        assert!(challenge(&response).contains("error=\"invalid_request\""));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
        server.stop().await;
    }
}

/// RFC 6750 §3.1: a request "attempted using an unsupported authentication method" lacks
/// authentication information, and the answer "SHOULD NOT include an error code".
#[tokio::test]

async fn userinfo_with_basic_credentials_gets_a_bare_challenge() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let request = reqwest::Client::new().get(server.url("/userinfo"));
        let response = request
            .basic_auth("alice", Some(PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(challenge(&response), "Bearer realm=\"tessera\"");
        server.stop().await;
    }
}

// Discovery and the audit trail.

/// OIDC Discovery §4.3: the issuer is exactly ours; every endpoint answers; the JWKS holds
/// public signing keys only (RFC 7517 §4, RFC 7518 §6).
#[tokio::test]
async fn discovery_names_the_issuer_and_live_endpoints() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let url = server.url("/.well-known/openid-configuration");
        let metadata: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        assert_eq!(metadata["issuer"], server.issuer.as_str());

        let endpoints = metadata
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| name.ends_with("_endpoint") || name.as_str() == "jwks_uri");
        let mut seen = 0;
        for (name, url) in endpoints {
            let url = url.as_str().unwrap();
            assert!(
                url.starts_with(&format!("{}/", server.issuer)),
                "{name}: {url}"
            );
            let status = reqwest::get(url).await.unwrap().status();
            assert!(
                status != 404 && !status.is_server_error(),
                "{name}: {status}"
            );
            seen += 1;
        }
        assert_eq!(
            seen, 7,
            "authorization, token, userinfo, jwks, end_session, revocation and introspection"
        );

        let jwks_uri = metadata["jwks_uri"].as_str().unwrap();
        let jwks: Value = reqwest::get(jwks_uri).await.unwrap().json().await.unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert!(!keys.is_empty());
        for key in keys {
            assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{key}");
            assert_eq!(key["use"], "sig", "{key}");
            assert!(
                ["RS256", "ES256"].contains(&key["alg"].as_str().unwrap()),
                "{key}"
            );
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(key.get(private).is_none(), "{private} in {key}");
            }
        }
        server.stop().await;
    }
}

/// Logins and redemptions, good and bad, are audit events; no password is in one.
#[tokio::test]
async fn logins_and_redemptions_are_audited() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;
        browser
            .submit_login(&server, &login, "alice", "hunter2")
            .await;
        let code = browser
            .authorization_code(&server, &server.authorize_url(&client, &[]), "alice")
            .await;
        assert_tokens(server.redeem(&client, &code, None).await).await;

        let events = server
            .provider
            .store()
            .recent_audit_events(50)
            .await
            .unwrap();
        let recorded = |kind: &str, outcome: &str| {
            events
                .iter()
                .any(|e| e.event_type == kind && e.outcome == outcome)
        };
        assert!(recorded("login.password", "failure"), "{events:?}");
        assert!(recorded("login.password", "success"), "{events:?}");
        assert!(
            recorded("token.authorization_code", "success"),
            "{events:?}"
        );
        for event in &events {
            assert!(!event.detail.contains("hunter2"), "{event:?}");
            assert!(!event.detail.contains(PASSWORD), "{event:?}");
        }
        server.stop().await;
    }
}
