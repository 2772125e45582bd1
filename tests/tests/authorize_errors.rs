//! The authorization endpoint's errors: shown on a page while the client is untrusted,
//! returned to the client once it is (RFC 6749 §4.1.2.1; OIDC Core §3.1.2.6).
//!
//! Each test drives a real Tessera over raw HTTP and checks the status, the `error` code
//! the spec names, and whether the browser was sent back to the client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tessera_e2e::expect::*;
use tessera_e2e::{
    engines, location, query_param, Browser, Followed, TestClient, TestServer, PASSWORD,
    PKCE_VERIFIER, REDIRECT_URI, STATE,
};
use url::{Position, Url};

// The authorization endpoint, before the client is trusted.

#[tokio::test]
async fn unknown_client_id_is_shown_on_a_page_not_redirected() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let unknown = TestClient {
            id: "no-such-client".into(),
            secret: None,
            redirect_uri: REDIRECT_URI.into(),
        };
        let response = Browser::new()
            .get(&server.authorize_url(&unknown, &[]))
            .await;
        assert_error_page(response, "invalid_request").await;
        server.stop().await;
    }
}

/// RFC 6749 §3.1.2.3 and RFC 9700 §4.1.1: the exact registered string, nothing looser.
#[tokio::test]
async fn unregistered_redirect_uri_is_shown_on_a_page_not_redirected() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        let near_misses = [
            "http://127.0.0.1:9/elsewhere",
            "http://127.0.0.1:9/callback/",
            "http://127.0.0.1:9/Callback",
            "http://localhost:9/callback",
            "http://127.0.0.1:9/callback?next=1",
        ];
        for uri in near_misses {
            let url = server.authorize_url(&client, &[("redirect_uri", uri)]);
            assert_error_page(browser.get(&url).await, "invalid_request").await;
        }

        // OIDC Core §3.1.2.1: redirect_uri is required.
        let url = server.authorize_url_with(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("scope", "openid"),
            ("state", STATE),
        ]);
        assert_error_page(browser.get(&url).await, "invalid_request").await;
        server.stop().await;
    }
}

/// RFC 6749 §3.1: parameters must not be sent twice; with two client ids neither can be
/// trusted, so nothing is redirected.
#[tokio::test]
async fn repeated_client_id_is_shown_on_a_page_not_redirected() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let first = server.create_client(false, false).await;
        let second = server.create_client(false, false).await;
        for other in [&first.id, &second.id] {
            let url = server.authorize_url_with(&[
                ("response_type", "code"),
                ("client_id", &first.id),
                ("client_id", other),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "openid"),
                ("state", STATE),
            ]);
            let response = Browser::new().get(&url).await;
            assert_error_page(response, "invalid_request").await;
        }
        server.stop().await;
    }
}

/// RFC 6749 §4.1.2.1 lists "includes a parameter more than once" among the errors returned
/// to the client once its redirect URI is trusted. Neither `state` is the one to echo.
#[tokio::test]

async fn repeated_state_is_returned_to_the_client_as_invalid_request() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let url = server.authorize_url_with(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("state", STATE),
            ("state", "another"),
        ]);
        let response = Browser::new().get(&url).await;
        assert_eq!(response.status(), 303);
        let to = location(&response).expect("a redirect to the client");
        assert_eq!(
            &Url::parse(&to).unwrap()[..Position::AfterPath],
            REDIRECT_URI
        );
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(
            query_param(&to, "iss").as_deref(),
            Some(server.issuer.as_str())
        );
        assert_eq!(query_param(&to, "code"), None);
        server.stop().await;
    }
}

// The authorization endpoint, once the client is trusted: errors go back to it.

/// RFC 6749 §4.1.2.1: only the code flow is offered.
#[tokio::test]
async fn token_response_type_is_unsupported_response_type() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let url = server.authorize_url(&client, &[("response_type", "token")]);
        let response = Browser::new().get(&url).await;
        assert_error_redirect(&server, &response, "unsupported_response_type");
        server.stop().await;
    }
}

/// RFC 9700 §2.1.1: public clients must use PKCE, and `plain` is refused; RFC 7636 §4.3:
/// a challenge without a method is `plain`.
#[tokio::test]
async fn public_client_without_s256_pkce_is_invalid_request() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(true, false).await;
        let browser = Browser::new();
        let without = server.authorize_url(&client, &[]);
        let plain = server.authorize_url(
            &client,
            &[
                ("code_challenge", PKCE_VERIFIER),
                ("code_challenge_method", "plain"),
            ],
        );
        let implied_plain = server.authorize_url(&client, &[("code_challenge", PKCE_VERIFIER)]);
        for url in [without, plain, implied_plain] {
            let response = browser.get(&url).await;
            assert_error_redirect(&server, &response, "invalid_request");
        }
        server.stop().await;
    }
}

/// RFC 6749 §3.3: a scope the client may not request.
#[tokio::test]
async fn scope_beyond_the_clients_allowance_is_invalid_scope() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let url = server.authorize_url(&client, &[("scope", "openid admin")]);
        let response = Browser::new().get(&url).await;
        assert_error_redirect(&server, &response, "invalid_scope");
        server.stop().await;
    }
}

/// OIDC Core §3.1.2.6: prompt=none without a session.
#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let url = server.authorize_url(&client, &[("prompt", "none")]);
        let response = Browser::new().get(&url).await;
        assert_error_redirect(&server, &response, "login_required");
        server.stop().await;
    }
}

/// OIDC Core §3.1.2.6: prompt=none with a session, but no consent for this client.
#[tokio::test]
async fn prompt_none_without_consent_is_consent_required() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let first_party = server.create_client(false, true).await;
        let third_party = server.create_client(false, false).await;
        let browser = Browser::new();
        browser
            .sign_in(&server, &server.authorize_url(&first_party, &[]), "alice")
            .await;

        // The session is live: the first-party client gets a code without a page.
        let url = server.authorize_url(&first_party, &[("prompt", "none")]);
        let to = location(&browser.get(&url).await).unwrap();
        assert!(query_param(&to, "code").is_some(), "{to}");

        let url = server.authorize_url(&third_party, &[("prompt", "none")]);
        let response = browser.get(&url).await;
        assert_error_redirect(&server, &response, "consent_required");
        server.stop().await;
    }
}

/// OIDC Core §3.1.2.1: "If this parameter contains none with any other value, an error is
/// returned."
#[tokio::test]
async fn prompt_none_with_login_is_invalid_request() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, false).await;
        let url = server.authorize_url(&client, &[("prompt", "none login")]);
        let response = Browser::new().get(&url).await;
        assert_error_redirect(&server, &response, "invalid_request");
        server.stop().await;
    }
}

/// A browser in which `alice` has just signed in for `client`, a first-party client.
async fn signed_in(server: &TestServer, client: &TestClient) -> Browser {
    let browser = Browser::new();
    let url = server.authorize_url(client, &[]);
    browser.sign_in(server, &url, "alice").await;
    browser
}

/// OIDC Core §3.1.2.1: prompt=login asks for re-authentication even with a session.
#[tokio::test]
async fn prompt_login_shows_the_login_page_despite_a_session() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let browser = signed_in(&server, &client).await;
        let again = location(&browser.get(&server.authorize_url(&client, &[])).await).unwrap();
        assert!(
            query_param(&again, "code").is_some(),
            "the session alone yields a code"
        );

        let url = server.authorize_url(&client, &[("prompt", "login")]);
        let response = browser.get(&url).await;
        assert_sent_to_login(&server, &response);
        let login = page(browser.follow(&server.issuer, response).await);
        assert!(login.contains("name=\"password\""), "{login}");

        // Logging in again satisfies the prompt.
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        match browser.follow(&server.issuer, response).await {
            Followed::LeftIssuer(to) => assert!(query_param(&to, "code").is_some(), "{to}"),
            other => panic!("expected a code, got {other:?}"),
        }
        server.stop().await;
    }
}

fn unix_time() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

/// OIDC Core §3.1.2.1: "max_age=0 is equivalent to prompt=login". Tessera keeps time in
/// whole seconds, so a naive elapsed-time check passes when the login and the next request
/// share a second: each attempt starts on a fresh second, until one fits.
#[tokio::test]
async fn max_age_zero_shows_the_login_page_despite_a_session() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let url = server.authorize_url(&client, &[("max_age", "0")]);
        let mut within_one_second = false;
        for _ in 0..5 {
            let into_second = Duration::from_nanos(unix_time().subsec_nanos().into());
            tokio::time::sleep(Duration::from_secs(1) - into_second).await;
            let second = unix_time().as_secs();

            let browser = signed_in(&server, &client).await;
            let response = browser.get(&url).await;
            assert_sent_to_login(&server, &response);
            if unix_time().as_secs() == second {
                within_one_second = true;
                break;
            }
        }
        assert!(within_one_second, "no attempt fitted into one second");
        server.stop().await;
    }
}

/// A confidential client registered for the client credentials grant only.
async fn service_client(server: &TestServer) -> TestClient {
    let uris = vec![REDIRECT_URI.to_string()];
    let request = tessera_core::accounts::NewClientRequest {
        name: "Service",
        redirect_uris: &uris,
        public: false,
        first_party: true,
        id_token_alg: "RS256",
        scope: "openid",
        grant_types: &["client_credentials".to_string()],
        ..Default::default()
    };
    let now = tessera_core::unix_now();
    let created = tessera_core::accounts::create_client(server.provider.store(), request, now)
        .await
        .unwrap();
    TestClient {
        id: created.client_id,
        secret: created.client_secret.map(|s| s.expose().to_string()),
        redirect_uri: REDIRECT_URI.into(),
    }
}

/// RFC 6749 §4.1.2.1 and §5.2: a client uses only the grants it was registered for.
#[tokio::test]
async fn client_not_registered_for_the_code_grant_is_unauthorized_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let service = service_client(&server).await;
        let response = Browser::new()
            .get(&server.authorize_url(&service, &[]))
            .await;
        assert_error_redirect(&server, &response, "unauthorized_client");

        // At the token endpoint the grant is refused before the code is even looked at.
        let web = server.create_client(false, true).await;
        let url = server.authorize_url(&web, &[]);
        let code = Browser::new()
            .authorization_code(&server, &url, "alice")
            .await;
        let response = server.redeem(&service, &code, None).await;
        assert_token_error(response, 400, "unauthorized_client").await;
        server.stop().await;
    }
}

/// The ID token a confidential first-party client receives for `user`, signed in fresh.
async fn id_token_for(server: &TestServer, client: &TestClient, user: &str) -> String {
    let url = server.authorize_url(client, &[]);
    let code = Browser::new().authorization_code(server, &url, user).await;
    let response = server.redeem(client, &code, None).await;
    let body: serde_json::Value = response.json().await.unwrap();
    body["id_token"].as_str().unwrap().to_string()
}

/// OIDC Core §3.1.2.1 `id_token_hint`: with prompt=none, a session of the hinted person
/// answers with a code; a session of anyone else is `login_required`, never a code for the
/// wrong person; a hint that is not Tessera's, or was issued to another client, is refused.
#[tokio::test]
async fn id_token_hint_picks_the_person_prompt_none_may_answer_for() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        server.create_user("bob").await;
        let client = server.create_client(false, true).await;
        let other = server.create_client(false, true).await;
        let alice_hint = id_token_for(&server, &client, "alice").await;
        let bob_hint = id_token_for(&server, &client, "bob").await;
        let foreign_hint = id_token_for(&server, &other, "alice").await;

        let browser = Browser::new();
        browser
            .sign_in(&server, &server.authorize_url(&client, &[]), "alice")
            .await;
        let silent = |hint: &str| {
            server.authorize_url(&client, &[("prompt", "none"), ("id_token_hint", hint)])
        };

        let response = browser.get(&silent(&alice_hint)).await;
        let to = location(&response).unwrap();
        assert!(query_param(&to, "code").is_some(), "{to}");

        let response = browser.get(&silent(&bob_hint)).await;
        assert_error_redirect(&server, &response, "login_required");

        let response = browser.get(&silent(&foreign_hint)).await;
        assert_error_redirect(&server, &response, "invalid_request");

        let mut forged = alice_hint.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        let response = browser.get(&silent(&forged)).await;
        assert_error_redirect(&server, &response, "invalid_request");
        server.stop().await;
    }
}
