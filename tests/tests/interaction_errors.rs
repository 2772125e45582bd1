//! The hosted login and consent pages under misuse: wrong credentials, missing CSRF
//! tokens, planted sessions, denied consent, framing.
//!
//! Each test drives a real Tessera over raw HTTP and checks the status, the `error` code
//! the spec names, and whether the browser was sent back to the client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Response;
use tessera_e2e::expect::*;
use tessera_e2e::{engines, hidden_field, location, query_param, Browser, TestServer, PASSWORD};

// The hosted login and consent pages.

/// An unknown username and a wrong password get the same status and the same page, so the
/// answer does not reveal which accounts exist.
#[tokio::test]
async fn wrong_password_and_unknown_username_get_the_same_answer() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;

        let wrong_password = browser
            .submit_login(&server, &login, "alice", "hunter2")
            .await;
        let status = wrong_password.status();
        let wrong_password = wrong_password.text().await.unwrap();
        let unknown_user = browser.submit_login(&server, &login, "bob", PASSWORD).await;
        assert_eq!(unknown_user.status(), status);
        let unknown_user = unknown_user.text().await.unwrap();

        assert!(wrong_password.contains(LOGIN_FAILED), "{wrong_password}");
        assert_eq!(
            wrong_password.replace("alice", "NAME"),
            unknown_user.replace("bob", "NAME")
        );
        assert!(hidden_field(&unknown_user, "csrf").is_some());
        server.stop().await;
    }
}

/// RFC 9110 §15.5.2: a 401 must carry a `WWW-Authenticate` challenge. A form login has no
/// HTTP challenge to offer, so its failure must not be a bare 401.
#[tokio::test]

async fn failed_login_is_not_a_401_without_a_challenge() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;
        let response = browser
            .submit_login(&server, &login, "alice", "hunter2")
            .await;
        let has_challenge = response.headers().contains_key("www-authenticate");
        assert!(
            response.status() != 401 || has_challenge,
            "401 without a challenge"
        );
        server.stop().await;
    }
}

/// Each form carries the CSRF token of its own interaction; without it nothing happens.
#[tokio::test]
async fn login_without_the_interactions_csrf_token_is_refused() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        login_page(&server, &browser, &client).await;
        let elsewhere = login_page(&server, &Browser::new(), &client).await;
        let foreign_csrf = hidden_field(&elsewhere, "csrf").unwrap();
        let credentials = [("username", "alice"), ("password", PASSWORD)];

        let missing = browser.post_form(&server.url("/login"), &credentials).await;
        assert_error_page(missing, "invalid_request").await;
        for csrf in ["forged", foreign_csrf.as_str()] {
            let form = [credentials.as_slice(), &[("csrf", csrf)]].concat();
            let response = browser.post_form(&server.url("/login"), &form).await;
            assert_error_page(response, "invalid_request").await;
        }
        assert_eq!(browser.cookie(&server, "tessera-session"), None);
        server.stop().await;
    }
}

#[tokio::test]
async fn login_without_an_interaction_is_refused() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let form = [("csrf", "x"), ("username", "alice"), ("password", PASSWORD)];
        let response = Browser::new().post_form(&server.url("/login"), &form).await;
        assert_error_page(response, "invalid_request").await;
        server.stop().await;
    }
}

/// The `Set-Cookie` value for `name` in a response, attributes included.
fn set_cookie(response: &Response, name: &str) -> String {
    let prefix = format!("{name}=");
    let mut values = response.headers().get_all("set-cookie").iter();
    let found = values.find(|v| v.to_str().unwrap().starts_with(&prefix));
    found.expect("a Set-Cookie").to_str().unwrap().to_string()
}

/// Session fixation: a session id planted before login is not the one after it, and the
/// cookies are out of reach of scripts and of cross-site posts.
#[tokio::test]
async fn login_replaces_a_planted_session_cookie() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        browser.plant_cookie(&server, "tessera-session", "planted-by-an-attacker");

        let response = browser.get(&server.authorize_url(&client, &[])).await;
        let interaction = set_cookie(&response, "tessera-interaction");
        let login = page(browser.follow(&server.issuer, response).await);
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        let session = set_cookie(&response, "tessera-session");

        let value = session.split(';').next().unwrap();
        assert_ne!(value, "tessera-session=planted-by-an-attacker");
        assert_ne!(value, "tessera-session=");
        for cookie in [&session, &interaction] {
            assert!(cookie.contains("HttpOnly"), "{cookie}");
            assert!(cookie.contains("SameSite=Lax"), "{cookie}");
            assert!(cookie.contains("Path=/"), "{cookie}");
        }
        server.stop().await;
    }
}

/// Session fixation with a real session: an attacker's live session id, planted in the
/// victim's browser, is ended by the victim's login rather than upgraded by it.
#[tokio::test]
async fn login_ends_the_session_the_browser_arrived_with() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        server.create_user("mallory").await;
        let client = server.create_client(false, true).await;
        let attacker = Browser::new();
        attacker
            .sign_in(&server, &server.authorize_url(&client, &[]), "mallory")
            .await;
        let planted = attacker.cookie(&server, "tessera-session").unwrap();

        let victim = Browser::new();
        victim.plant_cookie(&server, "tessera-session", &planted);
        let url = server.authorize_url(&client, &[("prompt", "login")]);
        victim.sign_in(&server, &url, "alice").await;
        let after = victim.cookie(&server, "tessera-session").unwrap();
        assert_ne!(after, planted);

        let url = server.authorize_url(&client, &[("prompt", "none")]);
        let response = attacker.get(&url).await;
        assert_error_redirect(&server, &response, "login_required");
        server.stop().await;
    }
}

/// RFC 6749 §4.1.2.1: the person said no.
#[tokio::test]
async fn denied_consent_is_access_denied() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        let consent = page(browser.follow(&server.issuer, response).await);
        assert!(consent.contains("name=\"decision\""), "{consent}");

        let csrf = hidden_field(&consent, "csrf").unwrap();
        let form = [("csrf", csrf.as_str()), ("decision", "deny")];
        let response = browser.post_form(&server.url("/consent"), &form).await;
        assert_error_redirect(&server, &response, "access_denied");
        server.stop().await;
    }
}

/// Hosted pages cannot be framed (clickjacking), and forms carry a CSRF token.
#[tokio::test]
async fn hosted_pages_refuse_framing() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        browser.get(&server.authorize_url(&client, &[])).await;

        let login = browser.get(&server.url("/login")).await;
        let login_headers = login.headers().clone();
        let login = login.text().await.unwrap();
        assert!(hidden_field(&login, "csrf").is_some_and(|v| !v.is_empty()));
        browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        browser.get(&server.url("/resume")).await;
        let consent = browser.get(&server.url("/consent")).await;
        let consent_headers = consent.headers().clone();
        assert!(page_of(consent).await.contains("name=\"decision\""));
        let error = Browser::new().get(&server.url("/authorize")).await;

        for (name, headers) in [
            ("login", &login_headers),
            ("consent", &consent_headers),
            ("error", error.headers()),
        ] {
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"), "{name}: {csp}");
            assert_eq!(headers["x-frame-options"], "DENY", "{name}");
        }
        assert_error_page(error, "invalid_request").await;
        server.stop().await;
    }
}

/// Gets `browser` a session for alice with `client`, then opens an interaction that asks
/// for a new login (`prompt=login`, or `max_age=0`), and returns the login page it shows.
async fn reauthentication_demanded(
    server: &TestServer,
    browser: &Browser,
    demand: (&str, &str),
) -> String {
    let client = server.create_client(false, false).await;
    browser
        .sign_in(server, &server.authorize_url(&client, &[]), "alice")
        .await;
    let response = browser.get(&server.authorize_url(&client, &[demand])).await;
    assert_sent_to_login(server, &response);
    page_of(browser.get(&server.url("/login")).await).await
}

/// OIDC Core §3.1.2.1: `prompt=login` and `max_age` demand a new login. Skipping the
/// login page and going straight to consent must not produce a code.
#[tokio::test]
async fn consent_cannot_skip_a_login_that_was_demanded() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        for demand in [("prompt", "login"), ("max_age", "0")] {
            let browser = Browser::new();
            let login = reauthentication_demanded(&server, &browser, demand).await;
            let csrf = hidden_field(&login, "csrf").unwrap();

            let shown = browser.get(&server.url("/consent")).await;
            assert_sent_to_login(&server, &shown);
            let form = [("csrf", csrf.as_str()), ("decision", "approve")];
            let submitted = browser.post_form(&server.url("/consent"), &form).await;
            assert_sent_to_login(&server, &submitted);
        }
        server.stop().await;
    }
}

/// One interaction yields one code: the same consent form submitted several times at once
/// is honoured once, and the other submissions see the "already completed" page.
#[tokio::test]
async fn parallel_consent_submissions_issue_one_code() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        let consent = page(browser.follow(&server.issuer, response).await);
        let csrf = hidden_field(&consent, "csrf").unwrap();

        let mut submissions = tokio::task::JoinSet::new();
        for _ in 0..6 {
            // A clone of the client shares its cookie jar: the same browser, six tabs.
            let http = browser.http.clone();
            let url = server.url("/consent");
            let form = [("csrf", csrf.clone()), ("decision", "approve".to_string())];
            submissions.spawn(async move { http.post(url).form(&form).send().await.unwrap() });
        }

        let mut codes = 0;
        while let Some(response) = submissions.join_next().await {
            let response = response.unwrap();
            match location(&response) {
                Some(to) => {
                    assert!(query_param(&to, "code").is_some(), "{to}");
                    codes += 1;
                }
                None => assert_error_page(response, "invalid_request").await.clear(),
            }
        }
        assert_eq!(codes, 1);
        server.stop().await;
    }
}

/// RFC 9111 §5.2.2.5: pages holding CSRF tokens, and redirects carrying codes, are never
/// stored by a cache.
#[tokio::test]
async fn hosted_pages_and_code_redirects_are_not_cached() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        let to_login = browser.get(&server.authorize_url(&client, &[])).await;
        let login = browser.get(&server.url("/login")).await;
        let error = Browser::new().get(&server.url("/authorize")).await;
        for (name, response) in [
            ("redirect", &to_login),
            ("login", &login),
            ("error", &error),
        ] {
            assert_eq!(response.headers()["cache-control"], "no-store", "{name}");
        }

        let login = login.text().await.unwrap();
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        let consent = page(browser.follow(&server.issuer, response).await);
        let with_code = browser.approve(&server, &consent).await;
        assert!(location(&with_code).is_some_and(|to| to.contains("code=")));
        assert_eq!(with_code.headers()["cache-control"], "no-store");
        server.stop().await;
    }
}

/// Disabling a person ends their browser sessions: enabling them again later does not
/// bring back a session that was open, perhaps in someone else's hands, before.
#[tokio::test]
async fn disabling_a_person_ends_their_browser_sessions() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        browser
            .sign_in(&server, &server.authorize_url(&client, &[]), "alice")
            .await;

        let store = server.provider.store();
        let now = tessera_core::unix_now();
        tessera_core::accounts::set_user_disabled(store, "alice", true, now)
            .await
            .unwrap();
        tessera_core::accounts::set_user_disabled(store, "alice", false, now)
            .await
            .unwrap();

        let silent = server.authorize_url(&client, &[("prompt", "none")]);
        let response = browser.get(&silent).await;
        assert_error_redirect(&server, &response, "login_required");
        server.stop().await;
    }
}
