//! The brute-force defence over HTTP: growing delays on passwords, codes and client secrets,
//! counted per account, per client and per source address, shared through the database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use tessera_core::throttle::ThrottleSettings;
use tessera_core::{unix_now, Settings};
use tessera_e2e::account::{password_fields, sign_in_to_account, submit_action};
use tessera_e2e::expect::*;
use tessera_e2e::factors::{submit_code, totp};
use tessera_e2e::{engines, hidden_field, Browser, Followed, TestServer, PASSWORD, REDIRECT_URI};
use tessera_server::ServerOptions;
use tessera_store::{Engine, StoredAuditEvent};

/// Long enough that no delay runs out while a test is still looking at it.
const DELAY: i64 = 600;

/// A server whose throttle starts waiting after `free` failures (per account, client and
/// address alike), with a first delay of [`DELAY`] seconds.
async fn server_with(
    engine: Engine,
    free: i64,
    configure: impl FnOnce(&mut Settings),
) -> TestServer {
    TestServer::start_configured(engine, ServerOptions::default(), |settings| {
        settings.throttle = ThrottleSettings {
            account_free_failures: free,
            client_free_failures: free,
            address_free_failures: free,
            first_delay: DELAY,
            max_delay: 4 * DELAY,
            forget_after: 86_400,
        };
        configure(settings);
    })
    .await
}

/// The text "Try again in N seconds" for a delay of about [`DELAY`].
fn says_try_again(page: &str) -> bool {
    page.contains("Too many failed attempts. Try again in ") && page.contains(" seconds.")
}

/// RFC 6585 §4: 429, with `Retry-After` in seconds (RFC 9110 §10.2.3), at most [`DELAY`].
fn assert_retry_after(response: &reqwest::Response) {
    assert_eq!(response.status(), 429);
    let seconds: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=DELAY).contains(&seconds), "{seconds}");
}

async fn events(server: &TestServer, event_type: &str) -> Vec<StoredAuditEvent> {
    let all = server
        .provider
        .store()
        .recent_audit_events(500)
        .await
        .unwrap();
    all.into_iter()
        .filter(|e| e.event_type == event_type)
        .collect()
}

/// How many of the events have `reason` in their detail.
fn with_reason(events: &[StoredAuditEvent], reason: &str) -> usize {
    let reason_of = |e: &StoredAuditEvent| {
        let detail: Value = serde_json::from_str(&e.detail).unwrap();
        detail["reason"].as_str().unwrap_or_default().to_string()
    };
    events.iter().filter(|e| reason_of(e) == reason).count()
}

/// `n` browsers, each at the login page of its own interaction; with each page's CSRF token.
async fn login_pages(server: &TestServer, n: usize) -> Vec<(Browser, String)> {
    let client = server.create_client(false, true).await;
    let mut pages = Vec::new();
    for _ in 0..n {
        let browser = Browser::new();
        let page = login_page(server, &browser, &client).await;
        let csrf = hidden_field(&page, "csrf").unwrap();
        pages.push((browser, csrf));
    }
    pages
}

/// Posts every browser's login form at once, with `username` and `password`; the answers.
async fn parallel_logins(
    server: &TestServer,
    pages: &[(Browser, String)],
    username: &str,
    password: &str,
) -> Vec<(u16, String)> {
    let tasks: Vec<_> = pages
        .iter()
        .map(|(browser, csrf)| {
            let form = [
                ("csrf", csrf.clone()),
                ("username", username.to_string()),
                ("password", password.to_string()),
            ];
            let sent = browser.http.post(server.url("/login")).form(&form).send();
            tokio::spawn(async move {
                let response = sent.await.unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// The race: twenty wrong passwords at once. Each attempt is charged before its password is
/// checked, so exactly the five free ones are verified and the fifteen others are refused
/// unchecked; then, while the delay holds, the right password sent five times at once does
/// not get in either.
#[tokio::test]
async fn parallel_guesses_verify_no_more_than_the_free_allowance() {
    for engine in engines() {
        let server = server_with(engine, 5, |s| s.throttle.address_free_failures = 100).await;
        server.create_user("alice").await;

        let pages = login_pages(&server, 25).await;
        let (guesses, owner) = pages.split_at(20);
        let answers = parallel_logins(&server, guesses, "alice", "wrong guess").await;
        let failed = answers
            .iter()
            .filter(|(status, page)| *status == 200 && page.contains(LOGIN_FAILED))
            .count();
        let refused = answers
            .iter()
            .filter(|(status, page)| *status == 429 && says_try_again(page))
            .count();
        assert_eq!((failed, refused), (5, 15), "{engine:?}");
        let logins = events(&server, "login.password").await;
        assert_eq!(with_reason(&logins, "bad_password"), 5);
        assert_eq!(with_reason(&logins, "throttled"), 15);

        let answers = parallel_logins(&server, owner, "alice", PASSWORD).await;
        for (status, page) in &answers {
            assert_eq!(*status, 429, "{page}");
            assert!(says_try_again(page), "{page}");
        }
        let logins = events(&server, "login.password").await;
        assert_eq!(with_reason(&logins, "throttled"), 20);
        assert!(logins.iter().all(|e| e.outcome == "failure"));
        for (browser, _) in owner {
            assert_eq!(browser.cookie(&server, "tessera-session"), None);
        }
        server.stop().await;
    }
}

/// Unknown usernames are counted like known ones, by their normalised form, so the delays
/// and their answers do not tell which accounts exist.
#[tokio::test]
async fn unknown_usernames_meet_the_same_delays() {
    for engine in engines() {
        let server = server_with(engine, 2, |s| s.throttle.address_free_failures = 100).await;
        server.create_user("alice").await;
        let pages = login_pages(&server, 6).await;

        let mut answers = Vec::new();
        for (i, username) in ["alice", "Alice", "alice", "nobody", "NOBODY", "nobody"]
            .iter()
            .enumerate()
        {
            let (browser, csrf) = &pages[i];
            let form = [
                ("csrf", csrf.as_str()),
                ("username", username),
                ("password", "wrong"),
            ];
            let response = browser.post_form(&server.url("/login"), &form).await;
            let status = response.status().as_u16();
            let retry = response.headers().get("retry-after").cloned();
            answers.push((
                status,
                retry.is_some(),
                says_try_again(&response.text().await.unwrap()),
            ));
        }
        let expected = [(200, false, false), (200, false, false), (429, true, true)];
        assert_eq!(answers[..3], expected);
        assert_eq!(answers[3..], expected);
        server.stop().await;
    }
}

/// The source address is the audit trail's: behind a listed proxy, the forwarded client's.
/// One address guessing at several accounts meets the address's delay; another address
/// does not. A client not behind a listed proxy cannot dodge its counter by naming other
/// addresses in `X-Forwarded-For`.
#[tokio::test]
async fn the_address_counter_spans_accounts_and_honours_trusted_proxies() {
    for engine in engines() {
        let server = server_with(engine, 3, |s| {
            s.throttle.account_free_failures = 100;
            s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        let pages = login_pages(&server, 5).await;
        let post = |i: usize, username: &'static str, from: &'static str| {
            let (browser, csrf) = &pages[i];
            let form = [
                ("csrf", csrf.clone()),
                ("username", username.to_string()),
                ("password", "wrong".to_string()),
            ];
            browser
                .http
                .post(server.url("/login"))
                .header("x-forwarded-for", from)
                .form(&form)
                .send()
        };
        for (i, username) in ["alice", "bob", "carol"].into_iter().enumerate() {
            let response = post(i, username, "203.0.113.7").await.unwrap();
            assert_eq!(response.status(), 200, "{username}");
        }
        let refused = post(3, "dave", "203.0.113.7").await.unwrap();
        assert_retry_after(&refused);
        let elsewhere = post(4, "dave", "203.0.113.8").await.unwrap();
        assert_eq!(elsewhere.status(), 200);
        let logins = events(&server, "login.password").await;
        assert_eq!(with_reason(&logins, "throttled"), 1);
        server.stop().await;

        let server = server_with(engine, 3, |s| s.throttle.account_free_failures = 100).await;
        let pages = login_pages(&server, 4).await;
        let mut statuses = Vec::new();
        for (i, (browser, csrf)) in pages.iter().enumerate() {
            let claimed = format!("203.0.113.{i}");
            let form = [
                ("csrf", csrf.as_str()),
                ("username", "alice"),
                ("password", "wrong"),
            ];
            let response = browser
                .http
                .post(server.url("/login"))
                .header("x-forwarded-for", claimed)
                .form(&form)
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 429]);
        server.stop().await;
    }
}

/// A wrong client secret is counted per client: past the free failures the token endpoint
/// answers `invalid_client` with 429 and `Retry-After`, without checking the secret, so the
/// right one is refused too; revocation and introspection share the counter. The refused
/// attempts are audited as `throttled`.
#[tokio::test]
async fn client_secrets_are_throttled_at_every_endpoint() {
    for engine in engines() {
        let server = server_with(engine, 2, |s| s.throttle.address_free_failures = 100).await;
        let client = server.create_client(false, true).await;
        let secret = client.secret.clone().unwrap();
        let form = [("grant_type", "authorization_code"), ("code", "x")];

        for _ in 0..2 {
            let wrong = server.post_token(Some((&client.id, "wrong")), &form).await;
            assert_token_error(wrong, 401, "invalid_client").await;
        }
        let refused = server.post_token(Some((&client.id, &secret)), &form).await;
        assert_retry_after(&refused);
        assert!(refused.headers().get("www-authenticate").is_none());
        assert_token_error(refused, 429, "invalid_client").await;

        for path in ["/revoke", "/introspect"] {
            let response = tessera_e2e::http_client()
                .post(server.url(path))
                .basic_auth(&client.id, Some(&secret))
                .form(&[("token", "x")])
                .send()
                .await
                .unwrap();
            assert_retry_after(&response);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_client", "{path}: {body}");
            assert!(text_of(&body).contains("try again in"), "{body}");
        }

        let token = events(&server, "token.client_authentication").await;
        assert_eq!(with_reason(&token, "invalid_client"), 2);
        assert_eq!(with_reason(&token, "throttled"), 1);
        for event_type in [
            "revocation.client_authentication",
            "introspection.client_authentication",
        ] {
            let refused = events(&server, event_type).await;
            assert_eq!(with_reason(&refused, "throttled"), 1, "{event_type}");
        }
        server.stop().await;
    }
}

fn text_of(body: &Value) -> &str {
    body["error_description"].as_str().unwrap_or_default()
}

/// A right secret clears the client's counter: failures after it start from zero.
#[tokio::test]
async fn a_right_client_secret_clears_its_counter() {
    for engine in engines() {
        let server = server_with(engine, 2, |s| s.throttle.address_free_failures = 100).await;
        let client = server.create_client(false, true).await;
        let secret = client.secret.clone().unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT_URI),
        ];
        for _ in 0..3 {
            let wrong = server.post_token(Some((&client.id, "wrong")), &form).await;
            assert_token_error(wrong, 401, "invalid_client").await;
            // Authenticated: the code is what is wrong now.
            let right = server.post_token(Some((&client.id, &secret)), &form).await;
            assert_token_error(right, 400, "invalid_grant").await;
        }
        server.stop().await;
    }
}

/// Second-factor codes are throttled per account, on their own counter: past the free
/// failures even the right code is refused unchecked, the page says when to try again, and
/// the refusal costs none of the interaction's five attempts. Replaces the permanent lock
/// after a hundred wrong codes: the owner is delayed, never locked out.
#[tokio::test]
async fn codes_are_throttled_and_the_owner_gets_in_after_an_unthrottle() {
    for engine in engines() {
        let server = server_with(engine, 2, |s| s.throttle.address_free_failures = 100).await;
        server.create_user("alice").await;
        let secret = server.enrol_totp("alice").await;
        let client = server.create_mfa_client().await;

        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        let page = match browser.follow(&server.issuer, response).await {
            Followed::Page { body, .. } => body,
            other => panic!("no factor page: {other:?}"),
        };
        for _ in 0..2 {
            let wrong = submit_code(&server, &browser, &page, "000000").await;
            assert!(page_of(wrong).await.contains("Incorrect code."));
        }
        let right = totp(&secret, unix_now() + 30);
        let refused = submit_code(&server, &browser, &page, &right).await;
        assert_retry_after(&refused);
        assert!(says_try_again(&refused.text().await.unwrap()));
        let factor = events(&server, "login.second_factor").await;
        assert_eq!(with_reason(&factor, "throttled"), 1);

        // The administrator clears the account's counters; the same interaction, with two
        // of its five attempts used, takes the right code.
        tessera_core::throttle::unthrottle_user(server.provider.store(), "alice", unix_now())
            .await
            .unwrap();
        let accepted = submit_code(&server, &browser, &page, &right).await;
        assert_eq!(location(&accepted), Some(server.url("/resume")));
        server.stop().await;
    }
}

/// The account page's current password is counted with the login page's, and refused
/// unchecked while the delay holds.
#[tokio::test]
async fn the_account_pages_current_password_is_throttled() {
    for engine in engines() {
        let server = server_with(engine, 2, |s| s.throttle.address_free_failures = 100).await;
        server.create_user("alice").await;
        let browser = Browser::new();
        let page = sign_in_to_account(&server, &browser, "alice").await;
        let new = "a new and longer passphrase";

        for _ in 0..2 {
            let fields = password_fields("wrong", new, new);
            let response =
                submit_action(&server, &browser, &page, "change_password", &fields).await;
            assert_eq!(response.status(), 400);
        }
        let fields = password_fields(PASSWORD, new, new);
        let refused = submit_action(&server, &browser, &page, "change_password", &fields).await;
        assert_retry_after(&refused);
        assert!(says_try_again(&refused.text().await.unwrap()));
        let changes = events(&server, "account.password_change").await;
        assert_eq!(with_reason(&changes, "throttled"), 1);
        server.stop().await;
    }
}

fn location(response: &reqwest::Response) -> Option<String> {
    tessera_e2e::location(response)
}
