//! What a password change or the end of a session takes with it: an authenticator set up
//! from the account page is bound to the session that opened it, a login that verified the
//! old password and owes its second factor ends, a code issued before the change is not
//! redeemed after it, and recovery codes made anew twice at once leave one set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_core::accounts;
use tessera_core::mfa::MfaPolicy;
use tessera_core::unix_now;
use tessera_e2e::account::{
    listed_codes, password_fields, shown_secret, sign_in_to_account, submit_action, totp,
};
use tessera_e2e::expect::*;
use tessera_e2e::{engines, hidden_field, location, Browser, TestServer, PASSWORD};

const NEW_PASSWORD: &str = "plum orchard lantern quietly";

async fn landed(server: &TestServer, browser: &Browser, response: reqwest::Response) -> String {
    page(browser.follow(&server.issuer, response).await)
}

/// Opens the authenticator setup from alice's account page in `browser`; the enrolment page.
async fn open_setup(server: &TestServer, browser: &Browser) -> String {
    let account = sign_in_to_account(server, browser, "alice").await;
    let response = submit_action(server, browser, &account, "add_totp", &[]).await;
    assert_eq!(location(&response), Some(server.url("/factor")));
    landed(server, browser, response).await
}

/// Posts a valid code for the secret `enrol` shows, from `browser`.
async fn confirm(server: &TestServer, browser: &Browser, enrol: &str) -> reqwest::Response {
    let csrf = hidden_field(enrol, "csrf").unwrap();
    let code = totp(&shown_secret(enrol), unix_now());
    browser
        .post_form(&server.url("/factor"), &[("csrf", &csrf), ("code", &code)])
        .await
}

async fn totp_confirmed(server: &TestServer, user_id: &str) -> bool {
    let factor = server.provider.store().totp_factor(user_id).await.unwrap();
    factor.is_some_and(|f| f.confirmed_at.is_some())
}

/// NIST SP 800-63B §6.1.2.1: an authenticator is bound only by an authenticated person.
/// After signing out, the setup page still open in the browser confirms nothing.
#[tokio::test]
async fn an_account_setup_is_not_confirmed_after_signing_out() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let browser = Browser::new();
        let enrol = open_setup(&server, &browser).await;

        let confirm_logout = page(browser.visit(&server, &server.url("/logout")).await);
        let csrf = hidden_field(&confirm_logout, "csrf").unwrap();
        let response = browser
            .post_form(&server.url("/logout"), &[("csrf", &csrf)])
            .await;
        assert!(page_of(response).await.contains("You are signed out"));

        let response = confirm(&server, &browser, &enrol).await;
        assert_error_page(response, "invalid_request").await;
        assert!(!totp_confirmed(&server, &alice).await);
        assert_eq!(browser.cookie(&server, "tessera-session"), None);
        server.stop().await;
    }
}

/// The setup finishes only in the browser whose session opened it: another browser holding
/// its interaction cookie, without that session, confirms nothing.
#[tokio::test]
async fn an_account_setup_is_not_confirmed_by_another_browser() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let browser = Browser::new();
        let enrol = open_setup(&server, &browser).await;

        let thief = Browser::new();
        let interaction = browser.cookie(&server, "tessera-interaction").unwrap();
        thief.plant_cookie(&server, "tessera-interaction", &interaction);
        let response = confirm(&server, &thief, &enrol).await;
        assert_error_page(response, "invalid_request").await;
        assert!(!totp_confirmed(&server, &alice).await);
        assert_eq!(thief.cookie(&server, "tessera-session"), None);

        // The browser that opened it still can.
        let response = confirm(&server, &browser, &enrol).await;
        assert_eq!(listed_codes(&page_of(response).await).len(), 10);
        assert!(totp_confirmed(&server, &alice).await);
        server.stop().await;
    }
}

/// A password change ends the session a setup was opened in elsewhere, and with it the
/// setup: whoever held the old password cannot bind their authenticator afterwards.
#[tokio::test]
async fn a_password_change_elsewhere_ends_an_account_setup() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let intruder = Browser::new();
        let enrol = open_setup(&server, &intruder).await;

        let owner = Browser::new();
        let account = sign_in_to_account(&server, &owner, "alice").await;
        let fields = password_fields(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
        let response = submit_action(&server, &owner, &account, "change_password", &fields).await;
        assert_eq!(response.status(), 303);

        let response = confirm(&server, &intruder, &enrol).await;
        assert_error_page(response, "invalid_request").await;
        assert!(!totp_confirmed(&server, &alice).await);
        server.stop().await;
    }
}

/// A login that verified the old password and waits for its second factor ends when the
/// password changes: its enrolment page confirms nothing.
#[tokio::test]
async fn a_password_change_ends_a_login_that_owes_its_second_factor() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let store = server.provider.store();
        accounts::set_client_mfa(store, &client.id, Some(MfaPolicy::Required), unix_now())
            .await
            .unwrap();

        let intruder = Browser::new();
        let login = page(
            intruder
                .visit(&server, &server.authorize_url(&client, &[]))
                .await,
        );
        let response = intruder
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        assert_eq!(location(&response), Some(server.url("/factor")));
        let enrol = landed(&server, &intruder, response).await;
        assert!(enrol.contains("otpauth://totp/"), "{enrol}");

        let owner = Browser::new();
        let account = sign_in_to_account(&server, &owner, "alice").await;
        let fields = password_fields(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
        let response = submit_action(&server, &owner, &account, "change_password", &fields).await;
        assert_eq!(response.status(), 303);

        let response = confirm(&server, &intruder, &enrol).await;
        assert_error_page(response, "invalid_request").await;
        assert!(!totp_confirmed(&server, &alice).await);
        server.stop().await;
    }
}

/// A code issued before a password change is not redeemed after it (RFC 6749 §5.2
/// `invalid_grant`): it would mint tokens the change meant to revoke.
#[tokio::test]
async fn a_code_issued_before_a_password_change_is_not_redeemed_after_it() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let app = Browser::new();
        let code = app
            .authorization_code(&server, &server.authorize_url(&client, &[]), "alice")
            .await;

        let owner = Browser::new();
        let account = sign_in_to_account(&server, &owner, "alice").await;
        let fields = password_fields(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
        let response = submit_action(&server, &owner, &account, "change_password", &fields).await;
        assert_eq!(response.status(), 303);

        let response = server.redeem(&client, &code, None).await;
        assert_token_error(response, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// Two requests for new recovery codes at once leave exactly one set of ten.
#[tokio::test]
async fn parallel_regenerations_leave_one_set_of_recovery_codes() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let browser = Browser::new();
        let enrol = open_setup(&server, &browser).await;
        let response = confirm(&server, &browser, &enrol).await;
        assert_eq!(listed_codes(&page_of(response).await).len(), 10);
        let account = page(browser.visit(&server, &server.url("/resume")).await);

        let regenerate = || {
            submit_action(
                &server,
                &browser,
                &account,
                "regenerate_recovery_codes",
                &[],
            )
        };
        let (a, b, c, d) = tokio::join!(regenerate(), regenerate(), regenerate(), regenerate());
        for response in [a, b, c, d] {
            assert_eq!(response.status(), 200);
        }
        let account = page_of(browser.get(&server.url("/account")).await).await;
        assert!(account.contains("10 unused"), "{account}");
        server.stop().await;
    }
}

/// The payload of a JWT, undecoded signature left alone.
fn claims_of(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Back-Channel Logout 1.0 §2.7: the sessions a password change ends are announced to the
/// apps they served, with the `sid` those apps were given, as a logout would be.
#[tokio::test]
async fn a_password_change_queues_back_channel_logouts_for_the_sessions_it_ends() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let (client, sid) = app_session_with_backchannel(&server).await;

        let owner = Browser::new();
        let account = sign_in_to_account(&server, &owner, "alice").await;
        let fields = password_fields(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
        let response = submit_action(&server, &owner, &account, "change_password", &fields).await;
        assert_eq!(response.status(), 303);

        assert_one_logout_queued(&server, &client, &sid).await;
        server.stop().await;
    }
}

/// An app registered for back-channel logout, and the `sid` of alice's session with it.
async fn app_session_with_backchannel(
    server: &TestServer,
) -> (tessera_e2e::TestClient, serde_json::Value) {
    let uris = vec![tessera_e2e::REDIRECT_URI.to_string()];
    let request = accounts::NewClientRequest {
        name: "Logout App",
        redirect_uris: &uris,
        first_party: true,
        id_token_alg: "RS256",
        scope: "openid profile",
        grant_types: &["authorization_code".to_string()],
        backchannel_logout_uri: Some("https://rp.example/backchannel"),
        ..accounts::NewClientRequest::default()
    };
    let created = accounts::create_client(server.provider.store(), request, unix_now())
        .await
        .unwrap();
    let client = tessera_e2e::TestClient {
        id: created.client_id,
        secret: created.client_secret.map(|s| s.expose().to_string()),
        redirect_uri: tessera_e2e::REDIRECT_URI.to_string(),
    };
    let app = Browser::new();
    let code = app
        .authorization_code(server, &server.authorize_url(&client, &[]), "alice")
        .await;
    let response = server.redeem(&client, &code, None).await;
    let tokens: serde_json::Value = response.json().await.unwrap();
    let sid = claims_of(tokens["id_token"].as_str().unwrap())["sid"].clone();
    assert!(sid.is_string());
    (client, sid)
}

/// Exactly one logout token waits in the outbox, for `client`'s session `sid` (§2.4).
async fn assert_one_logout_queued(
    server: &TestServer,
    client: &tessera_e2e::TestClient,
    sid: &serde_json::Value,
) {
    let due = server
        .provider
        .store()
        .due_logout_deliveries(unix_now() + 1, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "one notice, for the app's session only");
    assert_eq!(due[0].client_id, client.id);
    let logout = claims_of(&due[0].logout_token);
    assert_eq!(&logout["sid"], sid);
    assert_eq!(
        logout["events"],
        serde_json::json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
}

/// An administrator disabling a person, or resetting their factors, through the provider
/// (as `tessera user disable` and `reset-factors` do) announces the sessions it ends.
#[tokio::test]
async fn disabling_or_resetting_a_person_queues_back_channel_logouts() {
    for engine in engines() {
        for disable in [true, false] {
            let server = TestServer::start(engine).await;
            server.create_user("alice").await;
            let (client, sid) = app_session_with_backchannel(&server).await;

            let revoked = if disable {
                server
                    .provider
                    .set_user_disabled("alice", true, unix_now())
                    .await
            } else {
                server.provider.reset_factors("alice", unix_now()).await
            };
            assert!(revoked.is_ok());
            assert_one_logout_queued(&server, &client, &sid).await;
            server.stop().await;
        }
    }
}
