//! Passkeys and security keys through the hosted pages' real endpoints: registration while
//! a login enrols, the second factor, passwordless sign-in, and the rules on top of
//! webauthn-rs (user verification, the owner's user handle, the signature counter, the
//! ceremony bound to its interaction). The authenticator is webauthn-authenticator-rs's
//! SoftPasskey (see the kit's `webauthn` module); the server's issuer is
//! `http://localhost:PORT`, since an IP address cannot be an RP ID.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use tessera_core::accounts;
use tessera_core::mfa::MfaPolicy;
use tessera_core::unix_now;
use tessera_e2e::expect::*;
use tessera_e2e::lifecycle::{assert_tokens_json, text};
use tessera_e2e::trail::{success, Trail};
use tessera_e2e::webauthn::{csrf_of, json, SoftKey};
use tessera_e2e::{
    engines, location, query_param, Browser, Followed, IssuerHost, TestClient, TestServer,
};
use tessera_server::ServerOptions;
use tessera_store::StoredAuditEvent;

/// The one message beside the passkey button after a failed second factor or enrolment.
const KEY_NOT_ACCEPTED: &str = "That passkey or security key was not accepted.";
/// The one message on the login page after a failed passwordless attempt.
const PASSKEY_LOGIN_FAILED: &str =
    "That passkey was not accepted. Try again, or sign in with your password.";

/// A first-party client (no consent page) whose logins require a second factor.
async fn required_client(server: &TestServer) -> TestClient {
    let client = server.create_client(false, true).await;
    let store = server.provider.store();
    accounts::set_client_mfa(store, &client.id, Some(MfaPolicy::Required), unix_now())
        .await
        .unwrap();
    client
}

/// Opens an authorization request for `client` and gives alice's password.
async fn password_step(server: &TestServer, browser: &Browser, client: &TestClient) {
    let login = login_page(server, browser, client).await;
    let response = browser
        .submit_login(server, &login, "alice", tessera_e2e::PASSWORD)
        .await;
    assert_eq!(location(&response), Some(server.url("/factor")));
}

async fn factor_page(server: &TestServer, browser: &Browser) -> String {
    page_of(browser.get(&server.url("/factor")).await).await
}

/// The recovery codes listed on the page shown after enrolment.
fn listed_codes(page: &str) -> Vec<String> {
    page.split("<li><code>")
        .skip(1)
        .map(|rest| rest.split("</code>").next().unwrap().to_string())
        .collect()
}

/// Enrols `key` for `username` through a required client's login in a new browser; the
/// recovery codes shown and where the browser went in the end (the client, with a code).
async fn enrol(
    server: &TestServer,
    client: &TestClient,
    username: &str,
    key: &mut SoftKey,
) -> (Vec<String>, String) {
    let browser = Browser::new();
    let login = login_page(server, &browser, client).await;
    let response = browser
        .submit_login(server, &login, username, tessera_e2e::PASSWORD)
        .await;
    assert_eq!(location(&response), Some(server.url("/factor")));
    let page = factor_page(server, &browser).await;
    assert!(page.contains("data-webauthn=\"enrol\""), "{page}");
    let csrf = csrf_of(&page);

    let options = browser
        .webauthn_options_json(server, "/passkey-enrol/options", &csrf)
        .await;
    let credential = key.register(&options);
    let response = browser
        .post_credential(server, "/passkey-enrol", &csrf, &credential)
        .await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let shown = page_of(response).await;
    let codes = listed_codes(&shown);
    assert_eq!(codes.len(), 10, "{shown}");

    let followed = browser.visit(server, &server.url("/resume")).await;
    let Followed::LeftIssuer(callback) = followed else {
        panic!("enrolment did not finish: {followed:?}");
    };
    (codes, callback)
}

/// The `amr` of the ID token that `callback`'s code redeems for.
async fn amr_of(server: &TestServer, client: &TestClient, callback: &str) -> Vec<String> {
    let code = query_param(callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));
    let tokens = assert_tokens_json(server.redeem(client, &code, None).await).await;
    let payload = text(&tokens, "id_token").split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    serde_json::from_value(claims["amr"].clone()).unwrap()
}

/// The audit events of `event_type`, newest first.
async fn events(server: &TestServer, event_type: &str) -> Vec<StoredAuditEvent> {
    let all = server
        .provider
        .store()
        .recent_audit_events(200)
        .await
        .unwrap();
    all.into_iter()
        .filter(|e| e.event_type == event_type)
        .collect()
}

fn reason(event: &StoredAuditEvent) -> String {
    json(&event.detail)["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Follows a successful answer to `/resume` and on to the client; the callback URL.
async fn callback_after(
    server: &TestServer,
    browser: &Browser,
    response: reqwest::Response,
) -> String {
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), Some(server.url("/resume")));
    match browser.visit(server, &server.url("/resume")).await {
        Followed::LeftIssuer(callback) => callback,
        other => panic!("no code after the key: {other:?}"),
    }
}

/// Issue 3 item 5: a person without a factor registers a key while logging in to a client
/// that requires one. The options ask for a discoverable credential with user verification
/// (WebAuthn L2 §5.4.4, §5.4.6) under a random user handle; the step ends as a TOTP
/// enrolment does, and the ID token's `amr` is "pwd", "swk", "user", "mfa" (RFC 8176 §2).
#[tokio::test]
async fn a_key_registered_at_enrolment_finishes_the_login() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let optional = server.create_client(false, true).await;
        let client = required_client(&server).await;
        let earlier = Browser::new();
        earlier
            .sign_in(&server, &server.authorize_url(&optional, &[]), "alice")
            .await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let response = browser.get(&server.url("/factor")).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        let page = page_of(response).await;
        assert!(page.contains("<script src=\"static/webauthn.js\" defer></script>"));
        assert!(
            page.contains("otpauth://totp/"),
            "TOTP is offered beside the key"
        );

        let csrf = csrf_of(&page);
        let options = browser
            .webauthn_options_json(&server, "/passkey-enrol/options", &csrf)
            .await;
        let public_key = &json(&options)["publicKey"];
        assert_eq!(public_key["rp"]["id"], "localhost");
        assert_eq!(public_key["user"]["name"], "alice");
        let selection = &public_key["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["requireResidentKey"], true);
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(public_key["excludeCredentials"], Value::Array(vec![]));
        let handle = URL_SAFE_NO_PAD
            .decode(public_key["user"]["id"].as_str().unwrap())
            .unwrap();
        assert_eq!(handle.len(), 16, "a random UUID");
        assert_ne!(handle, b"alice");
        assert!(
            !alice.replace('-', "").contains(&hex(&handle)),
            "not the sub"
        );

        let mut key = SoftKey::new(&server);
        let credential = key.register(&options);
        let mut trail = Trail::after_setup(&server).await;
        let response = browser
            .post_credential(&server, "/passkey-enrol", &csrf, &credential)
            .await;
        let shown = page_of(response).await;
        assert_eq!(listed_codes(&shown).len(), 10, "{shown}");
        // One attempt, one event: the login's, saying what it registered and made.
        let expected = success("login.webauthn", Some(&alice), Some(&client.id));
        let enrolled = trail.event("a key enrolled at login", expected).await;
        let credential_id = b64(&key.credential_id());
        assert_eq!(
            json(&enrolled.detail),
            serde_json::json!({
                "enrolled": "webauthn",
                "credential": credential_id,
                "recovery_codes": 10,
            })
        );
        let sids = server.provider.store().session_sids(&alice, None).await;
        assert_eq!(
            enrolled.session_id.into_iter().collect::<Vec<_>>(),
            sids.unwrap()
        );
        let password = &events(&server, "login.password").await[0];
        assert_eq!(enrolled.risk_score, password.risk_score);
        let followed = browser.visit(&server, &server.url("/resume")).await;
        let Followed::LeftIssuer(callback) = followed else {
            panic!("enrolment did not finish: {followed:?}");
        };
        assert_eq!(
            amr_of(&server, &client, &callback).await,
            ["pwd", "swk", "user", "mfa"]
        );

        let stored = server.provider.list_keys(&alice).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].id, b64(&key.credential_id()));
        assert_eq!(stored[0].name, "Security key");
        assert!(!stored[0].backup_eligible);

        // Sessions opened with the password alone ended with the enrolment.
        let silent = server.authorize_url(&optional, &[("prompt", "none")]);
        let response = earlier.get(&silent).await;
        assert_error_redirect(&server, &response, "login_required");
        server.stop().await;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A person with a key gives it after the password: the options list their credential, the
/// assertion logs them in, and the stored counter and time of use follow it.
#[tokio::test]
async fn a_key_is_the_second_factor_after_the_password() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let client = required_client(&server).await;
        let mut key = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut key).await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let page = factor_page(&server, &browser).await;
        assert!(page.contains("Use your passkey or security key"), "{page}");
        let csrf = csrf_of(&page);
        let options = browser
            .webauthn_options_json(&server, "/passkey-factor/options", &csrf)
            .await;
        let public_key = &json(&options)["publicKey"];
        assert_eq!(
            public_key["allowCredentials"][0]["id"],
            b64(&key.credential_id())
        );
        assert_eq!(public_key["userVerification"], "required");

        let assertion = key.assert(&options);
        let response = browser
            .post_credential(&server, "/passkey-factor", &csrf, &assertion)
            .await;
        let callback = callback_after(&server, &browser, response).await;
        assert_eq!(
            amr_of(&server, &client, &callback).await,
            ["pwd", "swk", "user", "mfa"]
        );

        let record = server.provider.store().webauthn_credentials(&alice).await;
        let record = &record.unwrap()[0];
        assert_eq!(record.sign_count, 1, "SoftPasskey's first signature");
        assert!(record.last_used_at.is_some());
        server.stop().await;
    }
}

/// A discoverable credential with user verification signs in alone, from the button or the
/// browser's autofill (`autocomplete="username webauthn"`): the options list no credential
/// and require UV; the `amr` is "swk", "user", "mfa", which a client requiring MFA accepts.
#[tokio::test]
async fn a_passkey_signs_in_without_a_password() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let mut key = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut key).await;

        let browser = Browser::new();
        let page = login_page(&server, &browser, &client).await;
        assert!(
            page.contains("autocomplete=\"username webauthn\""),
            "{page}"
        );
        assert!(page.contains("data-webauthn=\"login\""), "{page}");
        let csrf = csrf_of(&page);
        let options = browser
            .webauthn_options_json(&server, "/passkey-login/options", &csrf)
            .await;
        let parsed = json(&options);
        assert_eq!(parsed["mediation"], "conditional");
        assert_eq!(
            parsed["publicKey"]["allowCredentials"],
            Value::Array(vec![])
        );
        assert_eq!(parsed["publicKey"]["userVerification"], "required");

        let assertion = serde_json::to_string(&key.discover(&options)).unwrap();
        let response = browser
            .post_credential(&server, "/passkey-login", &csrf, &assertion)
            .await;
        let callback = callback_after(&server, &browser, response).await;
        assert_eq!(
            amr_of(&server, &client, &callback).await,
            ["swk", "user", "mfa"]
        );
        let logins = events(&server, "login.passwordless").await;
        assert_eq!(logins[0].outcome, "success");
        server.stop().await;
    }
}

/// W3C WebAuthn L2 §7.2 step 21: a signature counter at or below the stored one means the
/// key may have been cloned. The assertion is refused, on both paths, and the refusal is an
/// audit event; the stored counter is not lowered.
#[tokio::test]
async fn a_signature_counter_that_goes_backwards_is_refused_and_audited() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let client = required_client(&server).await;
        let mut key = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut key).await;
        // Another copy of the key has signed 1000 times meanwhile.
        let store = server.provider.store();
        tessera_store::testing::set_webauthn_sign_count(store, &key.credential_id(), 1000).await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let csrf = csrf_of(&factor_page(&server, &browser).await);
        let options = browser
            .webauthn_options_json(&server, "/passkey-factor/options", &csrf)
            .await;
        let assertion = key.assert(&options);
        let response = browser
            .post_credential(&server, "/passkey-factor", &csrf, &assertion)
            .await;
        let page = page_of(response).await;
        assert!(page.contains(KEY_NOT_ACCEPTED), "{page}");
        assert_eq!(browser.cookie(&server, "tessera-session"), None);
        let refused = events(&server, "login.webauthn").await;
        assert_eq!(refused[0].outcome, "failure");
        assert_eq!(reason(&refused[0]), "counter_regressed");

        let browser = Browser::new();
        let csrf = csrf_of(&login_page(&server, &browser, &client).await);
        let options = browser
            .webauthn_options_json(&server, "/passkey-login/options", &csrf)
            .await;
        let assertion = serde_json::to_string(&key.discover(&options)).unwrap();
        let response = browser
            .post_credential(&server, "/passkey-login", &csrf, &assertion)
            .await;
        assert!(page_of(response).await.contains(PASSKEY_LOGIN_FAILED));
        assert_eq!(browser.cookie(&server, "tessera-session"), None);
        let refused = events(&server, "login.passwordless").await;
        assert_eq!(reason(&refused[0]), "counter_regressed");

        let record = &store.webauthn_credentials(&alice).await.unwrap()[0];
        assert_eq!(record.sign_count, 1000);
        server.stop().await;
    }
}

/// W3C WebAuthn L2 §7.2 step 17: a passkey alone logs in only when the authenticator
/// verified the person; an assertion with presence alone (UV clear) is refused.
#[tokio::test]
async fn a_passwordless_assertion_without_user_verification_is_refused() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let mut key = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut key).await;

        let browser = Browser::new();
        let csrf = csrf_of(&login_page(&server, &browser, &client).await);
        let options = browser
            .webauthn_options_json(&server, "/passkey-login/options", &csrf)
            .await;
        let assertion = key.discover_without_verification(&options);
        let response = browser
            .post_credential(
                &server,
                "/passkey-login",
                &csrf,
                &serde_json::to_string(&assertion).unwrap(),
            )
            .await;
        let page = page_of(response).await;
        assert!(page.contains(PASSKEY_LOGIN_FAILED), "{page}");
        assert_eq!(browser.cookie(&server, "tessera-session"), None);
        let refused = events(&server, "login.passwordless").await;
        assert_eq!(reason(&refused[0]), "user_not_verified");
        server.stop().await;
    }
}

/// A ceremony belongs to the interaction that started it: an assertion signed over one
/// browser's challenge is refused in another's, and still works in its own.
#[tokio::test]
async fn an_assertion_for_another_interactions_challenge_is_refused() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let mut key = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut key).await;

        let first = Browser::new();
        let first_csrf = csrf_of(&login_page(&server, &first, &client).await);
        let first_options = first
            .webauthn_options_json(&server, "/passkey-login/options", &first_csrf)
            .await;
        let second = Browser::new();
        let second_csrf = csrf_of(&login_page(&server, &second, &client).await);
        second
            .webauthn_options_json(&server, "/passkey-login/options", &second_csrf)
            .await;

        let assertion = serde_json::to_string(&key.discover(&first_options)).unwrap();
        let response = second
            .post_credential(&server, "/passkey-login", &second_csrf, &assertion)
            .await;
        assert!(page_of(response).await.contains(PASSKEY_LOGIN_FAILED));
        assert_eq!(second.cookie(&server, "tessera-session"), None);
        let refused = events(&server, "login.passwordless").await;
        assert_eq!(reason(&refused[0]), "rejected");

        let response = first
            .post_credential(&server, "/passkey-login", &first_csrf, &assertion)
            .await;
        assert_eq!(location(&response), Some(server.url("/resume")));

        // The ceremony answered once: the same assertion again finds none waiting.
        let again = first
            .post_credential(&server, "/passkey-login", &first_csrf, &assertion)
            .await;
        assert!(page_of(again).await.contains(PASSKEY_LOGIN_FAILED));
        let refused = events(&server, "login.passwordless").await;
        assert_eq!(reason(&refused[0]), "no_ceremony");
        server.stop().await;
    }
}

/// W3C WebAuthn L2 §7.2 step 6: the user handle of a passwordless assertion must name the
/// credential's owner. It is not signed, so a response naming someone else is refused.
#[tokio::test]
async fn a_user_handle_that_is_not_the_owners_is_refused() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        server.create_user("alice").await;
        server.create_user("bob").await;
        let client = required_client(&server).await;
        let mut alices = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut alices).await;
        let mut bobs = SoftKey::new(&server);
        enrol(&server, &client, "bob", &mut bobs).await;

        let browser = Browser::new();
        let csrf = csrf_of(&login_page(&server, &browser, &client).await);
        let options = browser
            .webauthn_options_json(&server, "/passkey-login/options", &csrf)
            .await;
        let mut assertion = alices.discover(&options);
        assertion.response.user_handle = Some(bobs.user_handle().into());
        let response = browser
            .post_credential(
                &server,
                "/passkey-login",
                &csrf,
                &serde_json::to_string(&assertion).unwrap(),
            )
            .await;
        assert!(page_of(response).await.contains(PASSKEY_LOGIN_FAILED));
        let refused = events(&server, "login.passwordless").await;
        assert_eq!(reason(&refused[0]), "wrong_user");
        server.stop().await;
    }
}

/// A disabled person is not signed in by their passkey.
#[tokio::test]
async fn a_disabled_person_cannot_sign_in_with_a_passkey() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let mut key = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut key).await;
        let store = server.provider.store();
        accounts::set_user_disabled(store, "alice", true, unix_now())
            .await
            .unwrap();

        let browser = Browser::new();
        let csrf = csrf_of(&login_page(&server, &browser, &client).await);
        let options = browser
            .webauthn_options_json(&server, "/passkey-login/options", &csrf)
            .await;
        let assertion = serde_json::to_string(&key.discover(&options)).unwrap();
        let response = browser
            .post_credential(&server, "/passkey-login", &csrf, &assertion)
            .await;
        assert!(page_of(response).await.contains(PASSKEY_LOGIN_FAILED));
        assert_eq!(browser.cookie(&server, "tessera-session"), None);
        let refused = events(&server, "login.passwordless").await;
        assert_eq!(reason(&refused[0]), "account_disabled");
        server.stop().await;
    }
}

/// A refused key counts like a wrong code against the interaction (NIST SP 800-63B
/// §5.2.2): five end it, and each is an audit event. It is not charged to the throttle: a
/// signature cannot be guessed (see `a_throttled_factor_step_still_takes_the_owners_key`).
#[tokio::test]
async fn refused_keys_count_against_the_interaction() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let client = required_client(&server).await;
        let mut key = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut key).await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let csrf = csrf_of(&factor_page(&server, &browser).await);
        for attempt in 1..=4 {
            let response = browser
                .post_credential(&server, "/passkey-factor", &csrf, "{}")
                .await;
            let page = page_of(response).await;
            assert!(page.contains(KEY_NOT_ACCEPTED), "attempt {attempt}: {page}");
        }
        let fifth = browser
            .post_credential(&server, "/passkey-factor", &csrf, "{}")
            .await;
        assert_eq!(fifth.status(), 403);
        assert!(fifth.text().await.unwrap().contains("Error: access_denied"));
        let events = server
            .provider
            .store()
            .recent_audit_events(50)
            .await
            .unwrap();
        let refused = events
            .iter()
            .filter(|e| e.user_id.as_deref() == Some(alice.as_str()) && e.outcome == "failure")
            .count();
        assert_eq!(refused, 5);
        server.stop().await;
    }
}

/// The options requests carry the interaction's CSRF token in a header, and need the
/// interaction: otherwise a JSON `invalid_request` (400).
#[tokio::test]
async fn options_need_the_interaction_and_its_csrf_token() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let browser = Browser::new();
        let csrf = csrf_of(&login_page(&server, &browser, &client).await);

        let stranger = Browser::new();
        for (who, token) in [(&browser, ""), (&browser, "forged"), (&stranger, &csrf)] {
            let response = who
                .webauthn_options(&server, "/passkey-login/options", token)
                .await;
            assert_eq!(response.status(), 400);
            assert_eq!(response.headers()["content-type"], "application/json");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_request", "{body}");
        }

        // Before the password, there is no second factor to ask options for.
        for path in ["/passkey-factor/options", "/passkey-enrol/options"] {
            let response = browser.webauthn_options(&server, path, &csrf).await;
            assert_eq!(response.status(), 400, "{path}");
        }
        server.stop().await;
    }
}

/// W3C WebAuthn L2 §5.1.3 step 7: an IP address cannot be an RP ID, so an issuer on one
/// offers no passkeys: no script, no autofill token, no options, and the strict CSP.
#[tokio::test]
async fn an_issuer_on_an_ip_address_offers_no_passkeys() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let browser = Browser::new();
        let response = browser.get(&server.authorize_url(&client, &[])).await;
        let response = browser.get(&location(&response).unwrap()).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(!csp.contains("script-src"), "{csp}");
        let page = page_of(response).await;
        assert!(!page.contains("webauthn"), "{page}");

        let csrf = csrf_of(&page);
        let response = browser
            .webauthn_options(&server, "/passkey-login/options", &csrf)
            .await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(text(&body, "error_description").contains("not available"));
        server.stop().await;
    }
}

#[tokio::test]
async fn the_script_is_served_as_javascript() {
    let server = TestServer::start_localhost(tessera_store::Engine::Sqlite).await;
    let response = Browser::new().get(&server.url("/static/webauthn.js")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("navigator.credentials"));
    server.stop().await;
}

/// NIST SP 800-63B §5.2.2: the delays after wrong codes stop guessing. A key cannot be
/// guessed, so while the delay refuses even a right code, the owner's key still completes
/// the second step, in the same interaction.
#[tokio::test]
async fn a_throttled_factor_step_still_takes_the_owners_key() {
    for engine in engines() {
        let server = TestServer::start_as(
            engine,
            IssuerHost::Localhost,
            ServerOptions::default(),
            |s| {
                s.throttle.account_free_failures = 2;
                s.throttle.first_delay = 600;
            },
        )
        .await;
        server.create_user("alice").await;
        let client = required_client(&server).await;
        let mut key = SoftKey::new(&server);
        enrol(&server, &client, "alice", &mut key).await;

        let browser = Browser::new();
        password_step(&server, &browser, &client).await;
        let page = factor_page(&server, &browser).await;
        let csrf = csrf_of(&page);
        for expected in [200, 200, 429] {
            let code = browser
                .post_form(
                    &server.url("/factor"),
                    &[("csrf", &csrf), ("code", "000000")],
                )
                .await;
            assert_eq!(code.status(), expected);
        }
        let options = browser
            .webauthn_options_json(&server, "/passkey-factor/options", &csrf)
            .await;
        let assertion = key.assert(&options);
        let response = browser
            .post_credential(&server, "/passkey-factor", &csrf, &assertion)
            .await;
        let callback = callback_after(&server, &browser, response).await;
        assert_eq!(
            amr_of(&server, &client, &callback).await,
            ["pwd", "swk", "user", "mfa"]
        );
        server.stop().await;
    }
}
