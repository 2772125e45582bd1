//! Multi-factor login through the hosted pages: TOTP, recovery codes, enrolment forced by
//! a client's policy, the `amr` of the resulting ID token, attempts to skip the factor, and
//! the password rules.
//!
//! Codes are computed here with totp-rs from the secret the enrolment page shows, as an
//! authenticator app would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use secrecy::SecretString;
use serde_json::Value;
use tessera_core::accounts::{self, AccountError, NewUserRequest};
use tessera_core::mfa::MfaPolicy;
use tessera_core::password_policy::PasswordRefusal;
use tessera_core::unix_now;
use tessera_e2e::expect::*;
use tessera_e2e::lifecycle::{assert_tokens_json, text};
use tessera_e2e::{
    engines, hidden_field, location, query_param, Browser, Followed, TestClient, TestServer,
    PASSWORD,
};
use tessera_server::ServerOptions;
use totp_rs::{Algorithm, Secret, TOTP};

const INCORRECT_CODE: &str = "Incorrect code.";

/// A first-party client (no consent page) whose logins require a second factor.
async fn required_client(server: &TestServer) -> TestClient {
    let client = server.create_client(false, true).await;
    let store = server.provider.store();
    accounts::set_client_mfa(store, &client.id, Some(MfaPolicy::Required), unix_now())
        .await
        .unwrap();
    client
}

/// The 6-digit SHA-1 code of `secret` at `time`, as an authenticator app shows it.
fn totp(secret: &[u8], time: i64) -> String {
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec()).unwrap();
    totp.generate(u64::try_from(time).unwrap())
}

/// Opens an authorization request for `client` and submits the right password.
async fn password_step(server: &TestServer, browser: &Browser, client: &TestClient) {
    let login = login_page(server, browser, client).await;
    let response = browser
        .submit_login(server, &login, "alice", PASSWORD)
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), Some(server.url("/factor")));
}

async fn factor_page(server: &TestServer, browser: &Browser) -> String {
    page_of(browser.get(&server.url("/factor")).await).await
}

async fn submit_code(
    server: &TestServer,
    browser: &Browser,
    page: &str,
    code: &str,
) -> reqwest::Response {
    let csrf = hidden_field(page, "csrf").expect("the factor page has a CSRF field");
    browser
        .post_form(&server.url("/factor"), &[("csrf", &csrf), ("code", code)])
        .await
}

/// The secret in the otpauth URI an enrolment page shows as text.
fn shown_secret(page: &str) -> Vec<u8> {
    let uri_start = page
        .find("otpauth://totp/")
        .expect("the otpauth URI as text");
    let secret = page[uri_start..]
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    Secret::Encoded(secret).to_bytes().unwrap()
}

/// The recovery codes listed on the page shown after enrolment.
fn listed_codes(page: &str) -> Vec<String> {
    page.split("<li><code>")
        .skip(1)
        .map(|rest| rest.split("</code>").next().unwrap().to_string())
        .collect()
}

/// Enrols alice through a required client's login in `browser` and returns the secret,
/// the recovery codes and where the browser was sent in the end (the client, with a code).
async fn enrol(
    server: &TestServer,
    browser: &Browser,
    client: &TestClient,
) -> (Vec<u8>, Vec<String>, String) {
    password_step(server, browser, client).await;
    let page = factor_page(server, browser).await;
    assert!(page.contains("<svg"), "an inline QR code: {page}");
    let secret = shown_secret(&page);
    assert_eq!(secret.len(), 20, "a 160-bit secret");

    let response = submit_code(server, browser, &page, &totp(&secret, unix_now())).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let shown = page_of(response).await;
    let codes = listed_codes(&shown);
    assert_eq!(codes.len(), 10, "{shown}");

    let followed = browser.visit(server, &server.url("/resume")).await;
    let Followed::LeftIssuer(callback) = followed else {
        panic!("enrolment did not finish: {followed:?}");
    };
    (secret, codes, callback)
}

/// The `amr` of the ID token that `callback`'s code redeems for.
async fn amr_of(server: &TestServer, client: &TestClient, callback: &str) -> Vec<String> {
    let code = query_param(callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));
    let tokens = assert_tokens_json(server.redeem(client, &code, None).await).await;
    let claims = jwt_claims(text(&tokens, "id_token"));
    serde_json::from_value(claims["amr"].clone()).unwrap()
}

fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Logs alice in with password and `code`; the response to the code form.
async fn login_with_code(
    server: &TestServer,
    client: &TestClient,
    code: &str,
) -> (Browser, reqwest::Response) {
    let browser = Browser::new();
    password_step(server, &browser, client).await;
    let page = factor_page(server, &browser).await;
    assert!(page.contains("autocomplete=\"one-time-code\""), "{page}");
    assert!(page.contains("inputmode=\"numeric\""), "{page}");
    let response = submit_code(server, &browser, &page, code).await;
    (browser, response)
}

/// Issue 3: a person without a factor, logging in to a client that requires one, enrols
/// before any code is issued; the ID token's `amr` is pwd, otp and mfa (RFC 8176 §2).
#[tokio::test]
async fn enrolment_is_forced_for_a_client_that_requires_mfa() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let client = required_client(&server).await;
        let browser = Browser::new();

        // A wrong first code does not turn the authenticator on.
        password_step(&server, &browser, &client).await;
        let page = factor_page(&server, &browser).await;
        let wrong = page_of(submit_code(&server, &browser, &page, "12345").await).await;
        assert!(wrong.contains(INCORRECT_CODE), "{wrong}");
        let factor = server.provider.store().totp_factor(&alice).await.unwrap();
        assert_eq!(factor.map(|f| f.confirmed_at.is_some()), Some(false));

        let (_, _, callback) = enrol(&server, &browser, &client).await;
        assert_eq!(
            amr_of(&server, &client, &callback).await,
            ["pwd", "otp", "mfa"]
        );
        server.stop().await;
    }
}

/// The hosted factor page keeps the pages' CSP and refuses framing, like login.
#[tokio::test]
async fn the_factor_page_keeps_the_security_headers() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let response = browser.get(&server.url("/factor")).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        server.stop().await;
    }
}

/// RFC 6238 §5.2: a code is accepted once; the same code, or one of an older step, fails
/// afterwards, with the one message for every wrong code.
#[tokio::test]
async fn a_totp_code_logs_in_once_and_a_replay_or_older_code_fails() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let (secret, _, _) = enrol(&server, &Browser::new(), &client).await;

        // The enrolment used the current step; the next one is within the window.
        let next = totp(&secret, unix_now() + 30);
        let (browser, response) = login_with_code(&server, &client, &next).await;
        assert_eq!(location(&response), Some(server.url("/resume")));
        let followed = browser.visit(&server, &server.url("/resume")).await;
        let Followed::LeftIssuer(callback) = followed else {
            panic!("no code after the factor: {followed:?}");
        };
        assert_eq!(
            amr_of(&server, &client, &callback).await,
            ["pwd", "otp", "mfa"]
        );

        for (what, code) in [("replayed", next), ("older", totp(&secret, unix_now()))] {
            let (browser, response) = login_with_code(&server, &client, &code).await;
            let page = page_of(response).await;
            assert!(page.contains(INCORRECT_CODE), "{what}: {page}");
            assert_eq!(browser.cookie(&server, "tessera-session"), None, "{what}");
        }
        server.stop().await;
    }
}

/// Wrong codes get one message whatever was wrong (a TOTP code, a recovery code, garbage),
/// so the page does not reveal which factors exist; five within an interaction end it.
#[tokio::test]
async fn wrong_codes_say_incorrect_code_and_five_end_the_interaction() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        enrol(&server, &Browser::new(), &client).await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let mut page = factor_page(&server, &browser).await;
        let mut answers = Vec::new();
        for code in ["000000", "0000-0000-0000", "x"] {
            let response = submit_code(&server, &browser, &page, code).await;
            page = page_of(response).await;
            assert!(page.contains(INCORRECT_CODE), "{code}: {page}");
            answers.push(page.clone());
        }
        assert!(answers.windows(2).all(|pair| pair[0] == pair[1]));

        let fourth = submit_code(&server, &browser, &page, "111111").await;
        assert_eq!(fourth.status(), 200);
        let fifth = submit_code(&server, &browser, &page, "222222").await;
        assert_eq!(fifth.status(), 403);
        assert_eq!(location(&fifth), None);
        let ended = fifth.text().await.unwrap();
        assert!(ended.contains("Error: access_denied"), "{ended}");
        assert!(ended.contains("Too many incorrect codes"), "{ended}");
        let after = submit_code(&server, &browser, &page, "333333").await;
        assert_error_page(after, "invalid_request").await;
        server.stop().await;
    }
}

/// A recovery code replaces the authenticator once; its `amr` is pwd and mfa (RFC 8176 has
/// no value for recovery codes, and "otp" would claim a device that was not used).
#[tokio::test]
async fn a_recovery_code_works_once() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let (_, codes, _) = enrol(&server, &Browser::new(), &client).await;

        let typed = codes[3].to_uppercase().replace('-', " ");
        let (browser, response) = login_with_code(&server, &client, &typed).await;
        assert_eq!(location(&response), Some(server.url("/resume")));
        let Followed::LeftIssuer(callback) = browser.visit(&server, &server.url("/resume")).await
        else {
            panic!("no code after a recovery code");
        };
        assert_eq!(amr_of(&server, &client, &callback).await, ["pwd", "mfa"]);

        let (_, again) = login_with_code(&server, &client, &codes[3]).await;
        assert!(page_of(again).await.contains(INCORRECT_CODE));
        server.stop().await;
    }
}

/// The state machine lives on the server: after the password and before the factor, no
/// later step (`/resume`, `/consent`) and no replay of the password form yields a session
/// or a code.
#[tokio::test]
async fn the_factor_cannot_be_skipped() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        enrol(&server, &Browser::new(), &client).await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        for path in ["/resume", "/consent"] {
            let response = browser.get(&server.url(path)).await;
            assert_sent_to_login(&server, &response);
        }
        let login = page(browser.visit(&server, &server.url("/login")).await);
        let replayed = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        assert_eq!(location(&replayed), Some(server.url("/factor")));
        assert!(replayed.headers().get("set-cookie").is_none());
        assert_eq!(browser.cookie(&server, "tessera-session"), None);
        server.stop().await;
    }
}

/// The factor step exists only after a password was verified within the same interaction.
#[tokio::test]
async fn the_factor_step_without_a_password_goes_to_login() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let (secret, _, _) = enrol(&server, &Browser::new(), &client).await;

        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;
        let response = browser.get(&server.url("/factor")).await;
        assert_sent_to_login(&server, &response);
        let code = totp(&secret, unix_now() + 30);
        let posted = submit_code(&server, &browser, &login, &code).await;
        assert_sent_to_login(&server, &posted);
        assert_eq!(browser.cookie(&server, "tessera-session"), None);
        server.stop().await;
    }
}

/// A password-only session, from a client that does not require a factor, does not serve
/// one that does: the person is asked to log in again (to enrol; see step_up.rs), and
/// `prompt=none` gets `interaction_required` (OIDC Core §3.1.2.6) instead of a silently
/// weaker login.
#[tokio::test]
async fn a_password_only_session_does_not_serve_a_client_that_requires_mfa() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let optional = server.create_client(false, true).await;
        let required = required_client(&server).await;
        let browser = Browser::new();
        let callback = browser
            .sign_in(&server, &server.authorize_url(&optional, &[]), "alice")
            .await;
        assert_eq!(amr_of(&server, &optional, &callback).await, ["pwd"]);

        let response = browser.get(&server.authorize_url(&required, &[])).await;
        assert_sent_to_login(&server, &response);
        let silent = server.authorize_url(&required, &[("prompt", "none")]);
        let response = browser.get(&silent).await;
        assert_error_redirect(&server, &response, "interaction_required");
        server.stop().await;
    }
}

/// NIST SP 800-63B §3.1.1.2, wherever a password is set: too short, too long and common
/// passwords are refused; the configured minimum applies.
#[tokio::test]
async fn new_passwords_follow_the_nist_rules() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, Default::default(), |settings| {
            settings.password_min_length = 12;
        })
        .await;
        let policy = server.provider.settings().password_policy();
        let long = "kq3#vZ!p".repeat(33);
        let cases = [
            ("kq3#vZ!pa7x", PasswordRefusal::TooShort(12)),
            (long.as_str(), PasswordRefusal::TooLong(256)),
            ("1QAZ2WSX3EDC", PasswordRefusal::Common),
        ];
        for (password, refusal) in cases {
            let request = NewUserRequest {
                username: "alice",
                email: None,
                display_name: None,
                password: SecretString::from(password),
            };
            let store = server.provider.store();
            let hasher = server.provider.passwords();
            let result = accounts::create_user(store, hasher, &policy, request, unix_now()).await;
            match result {
                Err(AccountError::PasswordRefused(got)) => assert_eq!(got, refusal),
                other => panic!("{password:?} was not refused: {other:?}"),
            }
        }
        server.create_user("alice").await;
        server.stop().await;
    }
}

/// An administrator's reset removes the factors and revokes the person's tokens; the next
/// login to a client that requires a factor enrols anew.
#[tokio::test]
async fn reset_factors_removes_them_and_revokes_tokens() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let (_, _, callback) = enrol(&server, &Browser::new(), &client).await;
        let code = query_param(&callback, "code").unwrap();
        assert_tokens_json(server.redeem(&client, &code, None).await).await;

        let store = server.provider.store();
        let revoked = accounts::reset_factors(store, "alice", unix_now())
            .await
            .unwrap();
        assert_eq!(revoked.access_tokens, 1);
        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        assert!(factor_page(&server, &browser)
            .await
            .contains("otpauth://totp/"));
        server.stop().await;
    }
}

/// NIST SP 800-63B §5.2.2: wrong codes on an account are rate limited, and the limit
/// delays rather than locks (it replaced a permanent lock after a hundred wrong codes): past
/// the free failures even the right code is refused, unchecked, until the delay passes;
/// then the owner's right code gets in, in the same interaction, which the refusal cost
/// no attempt. The delays' growth is tested with a fixed clock in the core crate.
#[tokio::test]
async fn wrong_codes_delay_the_factor_step_but_never_lock_the_owner_out() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.throttle.account_free_failures = 2;
            s.throttle.first_delay = 3;
            s.throttle.max_delay = 3;
        })
        .await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let (secret, _, _) = enrol(&server, &Browser::new(), &client).await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let page = factor_page(&server, &browser).await;
        for _ in 0..2 {
            let wrong = submit_code(&server, &browser, &page, "000000").await;
            assert!(page_of(wrong).await.contains(INCORRECT_CODE));
        }
        let right = totp(&secret, unix_now() + 30);
        let refused = submit_code(&server, &browser, &page, &right).await;
        assert_eq!(refused.status(), 429);
        assert!(refused.text().await.unwrap().contains("Try again in"));

        tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
        let accepted = submit_code(&server, &browser, &page, &right).await;
        assert_eq!(location(&accepted), Some(server.url("/resume")));
        server.stop().await;
    }
}

/// NIST SP 800-63B §6.1.1: an authenticator is bound to the person enrolling it. Someone
/// else who knows the password and starts an enrolment of their own draws a secret of their
/// own: they never see the one the person scans, and the secret they saw can confirm
/// nothing once the person's browser has drawn another.
#[tokio::test]
async fn an_enrolment_secret_is_seen_and_confirmed_only_by_the_browser_that_drew_it() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let client = required_client(&server).await;

        let intruder = Browser::new();
        password_step(&server, &intruder, &client).await;
        let intruders_page = factor_page(&server, &intruder).await;
        let intruders_secret = shown_secret(&intruders_page);

        let owner = Browser::new();
        password_step(&server, &owner, &client).await;
        let owners_page = factor_page(&server, &owner).await;
        assert_ne!(shown_secret(&owners_page), intruders_secret);

        let code = totp(&intruders_secret, unix_now());
        let refused = submit_code(&server, &intruder, &intruders_page, &code).await;
        let refused = page_of(refused).await;
        assert!(refused.contains(INCORRECT_CODE), "{refused}");
        let factor = server.provider.store().totp_factor(&alice).await.unwrap();
        assert!(factor.is_some_and(|f| f.confirmed_at.is_none()));
        server.stop().await;
    }
}

/// NIST SP 800-63B §5.2.2: an interaction checks at most five codes, even when they arrive
/// all at once; the attempt is taken before the code is checked.
#[tokio::test]
async fn parallel_codes_cannot_check_more_than_five() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        enrol(&server, &Browser::new(), &client).await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let page = factor_page(&server, &browser).await;
        let csrf = hidden_field(&page, "csrf").unwrap();
        let mut submissions = tokio::task::JoinSet::new();
        for guess in 0..12 {
            let http = browser.http.clone();
            let url = server.url("/factor");
            let form = [
                ("csrf", csrf.clone()),
                ("code", format!("{:06}", 100 + guess)),
            ];
            submissions.spawn(async move { http.post(url).form(&form).send().await.unwrap() });
        }

        let mut incorrect = 0;
        while let Some(response) = submissions.join_next().await {
            let response = response.unwrap();
            assert!(response.status().is_client_error() || response.status() == 200);
            if response.text().await.unwrap().contains(INCORRECT_CODE) {
                incorrect += 1;
            }
        }
        assert!(
            incorrect <= 4,
            "{incorrect} codes were checked and answered as incorrect"
        );

        let events = server
            .provider
            .store()
            .recent_audit_events(50)
            .await
            .unwrap();
        let checked = events
            .iter()
            .filter(|e| e.event_type == "login.totp" && e.outcome == "failure")
            .count();
        assert!((1..=5).contains(&checked), "{checked} codes were checked");
        server.stop().await;
    }
}

/// A session opened with the password alone, before the person enrolled an authenticator,
/// ends when they enrol: it may be an intruder's, signed in with a stolen password.
#[tokio::test]
async fn enrolling_ends_the_password_only_sessions_opened_before() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let optional = server.create_client(false, true).await;
        let required = required_client(&server).await;
        let earlier = Browser::new();
        earlier
            .sign_in(&server, &server.authorize_url(&optional, &[]), "alice")
            .await;

        enrol(&server, &Browser::new(), &required).await;

        let silent = server.authorize_url(&optional, &[("prompt", "none")]);
        let response = earlier.get(&silent).await;
        assert_error_redirect(&server, &response, "login_required");
        server.stop().await;
    }
}
