//! The token endpoint's errors: client authentication, malformed requests, and the
//! rules that bind a code to its client, redirect URI and PKCE verifier (RFC 6749 §4.1.3,
//! §5.2; RFC 7636 §4.6; RFC 9700 §2.1.1).
//!
//! Each test drives a real Tessera over raw HTTP and checks the status, the `error` code
//! the spec names, and whether the browser was sent back to the client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Response;
use tessera_e2e::expect::*;
use tessera_e2e::{
    engines, Browser, TestClient, TestServer, PKCE_S256, PKCE_VERIFIER, REDIRECT_URI,
};

// The token endpoint: client authentication and the request itself.

/// RFC 6749 §5.2: failed client authentication is 401 with a challenge.
#[tokio::test]
async fn wrong_client_secret_is_invalid_client_with_a_challenge() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", "anything"),
            ("redirect_uri", REDIRECT_URI),
        ];
        let basic = server.post_token(Some((&client.id, "wrong")), &form).await;
        let headers = assert_token_error(basic, 401, "invalid_client").await;
        assert!(headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));

        let post = [
            &form[..],
            &[
                ("client_id", client.id.as_str()),
                ("client_secret", "wrong"),
            ],
        ]
        .concat();
        let post = server.post_token(None, &post).await;
        assert_token_error(post, 401, "invalid_client").await;

        // A confidential client cannot pass itself off as public.
        let none = [&form[..], &[("client_id", client.id.as_str())]].concat();
        let none = server.post_token(None, &none).await;
        assert_token_error(none, 401, "invalid_client").await;
        server.stop().await;
    }
}

#[tokio::test]
async fn unknown_client_is_invalid_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", "anything"),
            ("redirect_uri", REDIRECT_URI),
        ];
        let basic = server
            .post_token(Some(("no-such-client", "secret")), &form)
            .await;
        assert_token_error(basic, 401, "invalid_client").await;
        let named = [&form[..], &[("client_id", "no-such-client")]].concat();
        let named = server.post_token(None, &named).await;
        assert_token_error(named, 401, "invalid_client").await;
        server.stop().await;
    }
}

/// RFC 6749 §2.3: a client must not use more than one authentication method.
#[tokio::test]
async fn two_client_authentication_methods_are_invalid_request() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let secret = client.secret.as_deref().unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", "anything"),
            ("redirect_uri", REDIRECT_URI),
            ("client_secret", secret),
        ];
        let response = server.post_token(Some((&client.id, secret)), &form).await;
        assert_token_error(response, 400, "invalid_request").await;
        server.stop().await;
    }
}

/// RFC 6749 §5.2: only `authorization_code` is offered.
#[tokio::test]
async fn unknown_grant_type_is_unsupported_grant_type() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let basic = Some((client.id.as_str(), client.secret.as_deref().unwrap()));
        let form = [("grant_type", "password"), ("username", "alice")];
        let response = server.post_token(basic, &form).await;
        assert_token_error(response, 400, "unsupported_grant_type").await;
        server.stop().await;
    }
}

/// RFC 6749 §4.1.3: `code` is required.
#[tokio::test]
async fn missing_code_is_invalid_request() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let basic = Some((client.id.as_str(), client.secret.as_deref().unwrap()));
        let form = [
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT_URI),
        ];
        let response = server.post_token(basic, &form).await;
        assert_token_error(response, 400, "invalid_request").await;
        server.stop().await;
    }
}

/// Posts raw bytes to the token endpoint as a confidential client.
async fn post_token_bytes(
    server: &TestServer,
    client: &TestClient,
    content_type: &str,
    body: Vec<u8>,
) -> Response {
    let request = reqwest::Client::new().post(server.url("/token"));
    let request = request.basic_auth(&client.id, client.secret.as_deref());
    let request = request.header("content-type", content_type).body(body);
    request.send().await.unwrap()
}

/// RFC 6749 §3.2: the body is `application/x-www-form-urlencoded`, and nothing else.
#[tokio::test]
async fn malformed_token_request_bodies_are_invalid_request() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let form = "application/x-www-form-urlencoded";

        let json = br#"{"grant_type":"authorization_code","code":"x"}"#.to_vec();
        let response = post_token_bytes(&server, &client, "application/json", json).await;
        assert_token_error(response, 400, "invalid_request").await;

        // One byte over the 64 KiB default limit: a protocol error, not a server fault.
        let mut large = b"grant_type=authorization_code&code=".to_vec();
        large.resize(64 * 1024 + 1, b'a');
        let response = post_token_bytes(&server, &client, form, large).await;
        assert_token_error(response, 400, "invalid_request").await;

        let not_utf8 = b"grant_type=authorization_code&code=\xff\xfe".to_vec();
        let response = post_token_bytes(&server, &client, form, not_utf8).await;
        assert_token_error(response, 400, "invalid_request").await;
        server.stop().await;
    }
}

// The token endpoint: what binds a code.

/// RFC 6749 §4.1.2: a code is single-use, and a replay revokes what the code gave.
#[tokio::test]
async fn second_redemption_fails_and_revokes_the_first_access_token() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let url = server.authorize_url(&client, &[]);
        let code = Browser::new()
            .authorization_code(&server, &url, "alice")
            .await;

        let access_token = assert_tokens(server.redeem(&client, &code, None).await).await;
        assert_eq!(userinfo(&server, &access_token).await.status(), 200);

        let replay = server.redeem(&client, &code, None).await;
        assert_token_error(replay, 400, "invalid_grant").await;
        let response = userinfo(&server, &access_token).await;
        assert_eq!(response.status(), 401);
        assert!(challenge(&response).contains("error=\"invalid_token\""));
        server.stop().await;
    }
}

/// Obtains a code for `client` as `alice`, with `overrides` on the request.
async fn code_for(server: &TestServer, client: &TestClient, overrides: &[(&str, &str)]) -> String {
    let url = server.authorize_url(client, overrides);
    Browser::new()
        .authorization_code(server, &url, "alice")
        .await
}

/// RFC 6749 §4.1.3: the redirect URI must be the one of the authorization request.
#[tokio::test]
async fn code_with_another_redirect_uri_is_invalid_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let code = code_for(&server, &client, &[]).await;
        let elsewhere = TestClient {
            redirect_uri: "http://127.0.0.1:9/callback/".into(),
            ..client.clone()
        };
        let response = server.redeem(&elsewhere, &code, None).await;
        assert_token_error(response, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// RFC 7636 §4.6: the verifier must hash to the challenge.
#[tokio::test]
async fn wrong_code_verifier_is_invalid_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(true, true).await;
        let code = code_for(&server, &client, &PKCE_S256).await;
        let response = server.redeem(&client, &code, Some(OTHER_VERIFIER)).await;
        assert_token_error(response, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// RFC 7636 §4.5: a code issued with a challenge needs its verifier.
#[tokio::test]
async fn pkce_code_without_a_verifier_is_invalid_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let code = code_for(&server, &client, &PKCE_S256).await;
        let response = server.redeem(&client, &code, None).await;
        assert_token_error(response, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// RFC 9700 §2.1.1 (PKCE downgrade): a verifier for a code issued without a challenge.
#[tokio::test]
async fn verifier_for_a_code_issued_without_pkce_is_invalid_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let code = code_for(&server, &client, &[]).await;
        let response = server.redeem(&client, &code, Some(PKCE_VERIFIER)).await;
        assert_token_error(response, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// RFC 6749 §4.1.3: the code was issued to another client.
#[tokio::test]
async fn code_of_another_client_is_invalid_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let owner = server.create_client(false, true).await;
        let thief = server.create_client(false, true).await;
        let code = code_for(&server, &owner, &[]).await;
        let response = server.redeem(&thief, &code, None).await;
        assert_token_error(response, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// A browser app (a public client in the page) may call the token endpoint with fetch: the
/// CORS preflight is answered for any origin, without allowing credentials (cookies).
#[tokio::test]
async fn token_endpoint_answers_cors_preflight_without_credentials() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        for path in [
            "/token",
            "/userinfo",
            "/jwks",
            "/.well-known/openid-configuration",
        ] {
            let response = reqwest::Client::new()
                .request(reqwest::Method::OPTIONS, server.url(path))
                .header("origin", "https://app.example.com")
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization")
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            let headers = response.headers();
            assert_eq!(headers["access-control-allow-origin"], "*", "{path}");
            assert!(
                !headers.contains_key("access-control-allow-credentials"),
                "{path}"
            );
        }
        let login = reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, server.url("/login"))
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(!login.headers().contains_key("access-control-allow-origin"));
        server.stop().await;
    }
}

/// RFC 6749 Appendix A: no parameter value holds NUL, and a client id is VSCHARs. A NUL in
/// the form is `invalid_request` and one in the Basic credentials `invalid_client`, on both
/// engines (PostgreSQL's text cannot hold NUL, so a lookup would fail as a server error).
#[tokio::test]
async fn a_nul_in_the_client_id_is_refused_before_any_lookup() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", "a\0b"),
            ("client_secret", "x"),
        ];
        assert_token_error(server.post_token(None, &form).await, 400, "invalid_request").await;

        let basic = server
            .post_token(Some(("a\0b", "x")), &[("grant_type", "client_credentials")])
            .await;
        assert_token_error(basic, 401, "invalid_client").await;

        for path in ["/revoke", "/introspect"] {
            let response = tessera_e2e::http_client()
                .post(server.url(path))
                .basic_auth("a\0b", Some("x"))
                .form(&[("token", "x")])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401, "{path}");
        }
        server.stop().await;
    }
}
