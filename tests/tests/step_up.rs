//! Step-up authentication and `acr`: the class of authentication in every ID token (OIDC
//! Core §2), `acr_values` (§3.1.2.1), a client that requires a second factor, `prompt=none`
//! (§3.1.2.6), `max_age`, and the guards that keep a step-up from being finished by anyone
//! but the browser and person whose session it upgrades, or from enrolling a factor.
//!
//! The expected `acr` strings are Tessera's two URNs and the EAP ACR Values 1.0 (§2) names;
//! `amr` values are RFC 8176's. TOTP codes are computed here from the secret an enrolment
//! page shows, as an authenticator app would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::{json, Value};
use tessera_core::accounts;
use tessera_core::mfa::MfaPolicy;
use tessera_core::secret::RandomSecret;
use tessera_core::unix_now;
use tessera_e2e::expect::*;
use tessera_e2e::factors::*;
use tessera_e2e::lifecycle::{assert_tokens_json, text, ClientSpec};
use tessera_e2e::trail::{failure, success, Trail};
use tessera_e2e::{engines, location, Browser, Followed, TestClient, TestServer, PASSWORD};
use tessera_store::{Session, StoredAuditEvent};

const PWD: &str = "urn:tessera:acr:pwd";
const MFA: &str = "urn:tessera:acr:mfa";
const INCORRECT_CODE: &str = "Incorrect code.";
const SESSION_COOKIE: &str = "tessera-session";
const INTERACTION_COOKIE: &str = "tessera-interaction";

/// The ID token claims of the login that ended at `callback`.
async fn claims_of(server: &TestServer, client: &TestClient, callback: &str) -> Value {
    id_token_claims(&server.tokens_from(client, callback).await)
}

/// Sends `browser` to the authorization endpoint; the redirect must be to the factor step.
async fn step_up_page(server: &TestServer, browser: &Browser, url: &str) -> String {
    let response = browser.get(url).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), Some(server.url("/factor")));
    let page = page_of(browser.get(&server.url("/factor")).await).await;
    assert!(!page.contains("name=\"password\""), "{page}");
    page
}

/// The redirect to the client, with a code, that `response` must be.
fn callback_of(response: &reqwest::Response) -> String {
    let to = location(response).expect("a redirect");
    assert!(to.starts_with(tessera_e2e::REDIRECT_URI), "{to}");
    assert!(to.contains("code="), "{to}");
    to
}

/// Gives `browser` a live password-only session of `user_id`, authenticated at
/// `auth_time`, with the public `sid` "planted", written through the store. No hosted page
/// opens one for a person who has an authenticator (a login asks for it, and enrolling ends
/// such sessions); a factor added outside a login, from an account page or as a WebAuthn
/// key, leaves one. It is the state a step-up that verifies an existing factor starts from.
async fn plant_password_session(
    server: &TestServer,
    browser: &Browser,
    user_id: &str,
    auth_time: i64,
) {
    let id = RandomSecret::generate();
    let session = Session {
        user_id: user_id.to_string(),
        auth_time,
        amr: "pwd".to_string(),
        sid: Some("planted".to_string()),
        expires_at: unix_now() + 3600,
        risk: None,
    };
    let mut tx = server.provider.store().begin().await.unwrap();
    tx.insert_session(&id.digest(), &session, auth_time)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    browser.plant_cookie(server, SESSION_COOKIE, id.expose());
}

/// Alice, with a TOTP authenticator enrolled through a login of her own; her id and secret.
async fn alice_with_authenticator(server: &TestServer) -> (String, Vec<u8>) {
    let alice = server.create_user("alice").await;
    let secret = server.enrol_totp("alice").await;
    (alice, secret)
}

/// A code from `secret` that no login has used yet: enrolment spent the current time step,
/// and the next one is within the window (RFC 6238 §5.2).
fn unused_code(secret: &[u8]) -> String {
    totp(secret, unix_now() + 30)
}

/// Submits `code` on the factor page `page` and follows the login to the client.
async fn finish_with_code(
    server: &TestServer,
    browser: &Browser,
    page: &str,
    code: &str,
) -> String {
    let response = submit_code(server, browser, page, code).await;
    assert_eq!(location(&response), Some(server.url("/resume")));
    match browser.visit(server, &server.url("/resume")).await {
        Followed::LeftIssuer(callback) => callback,
        other => panic!("no code after the factor: {other:?}"),
    }
}

/// Requests `url`, which must ask for the password; gives it, and enrols the authenticator
/// the factor step then shows. Returns where the browser was finally sent.
async fn password_then_enrol(server: &TestServer, browser: &Browser, url: &str) -> String {
    assert_sent_to_login(server, &browser.get(url).await);
    let login = page_of(browser.get(&server.url("/login")).await).await;
    let response = browser
        .submit_login(server, &login, "alice", PASSWORD)
        .await;
    assert_eq!(location(&response), Some(server.url("/factor")));
    let page = page_of(browser.get(&server.url("/factor")).await).await;
    assert!(is_enrolment(&page), "{page}");
    enrol_on(server, browser, &page).await.1
}

/// The audit events of one type, newest first.
async fn events_of(server: &TestServer, event_type: &str) -> Vec<StoredAuditEvent> {
    let events = server.provider.store().recent_audit_events(100).await;
    let events = events.unwrap().into_iter();
    events.filter(|e| e.event_type == event_type).collect()
}

/// OIDC Discovery §3: the classes Tessera understands, weakest first, and the `acr` claim.
#[tokio::test]
async fn discovery_lists_the_acr_values_and_the_acr_claim() {
    let server = TestServer::start(engines()[0]).await;
    let doc: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["acr_values_supported"],
        json!(["urn:tessera:acr:pwd", "urn:tessera:acr:mfa", "phr"])
    );
    let claims = doc["claims_supported"].as_array().unwrap();
    assert!(claims.contains(&json!("acr")), "{claims:?}");
    // Essential `acr` through `claims` (OIDC Core §5.5.1.1) is not supported, and says so.
    assert_eq!(doc["claims_parameter_supported"], json!(false));
    server.stop().await;
}

/// A password login for a request that asks for nothing more: `acr` says so, as `amr` does.
#[tokio::test]
async fn a_password_login_reports_the_password_class() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let callback = Browser::new()
            .sign_in(&server, &server.authorize_url(&client, &[]), "alice")
            .await;
        let claims = claims_of(&server, &client, &callback).await;
        assert_eq!(claims["acr"], PWD);
        assert_eq!(amr(&claims), ["pwd"]);
        server.stop().await;
    }
}

/// A password session asked for two factors, of a person with an authenticator, goes
/// straight to the code (never the password) and ends with a new session: a new id,
/// `auth_time` of the step-up, both factors' `amr`, and the same public `sid`.
#[tokio::test]
async fn acr_values_step_a_password_session_up_without_the_password() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, secret) = alice_with_authenticator(&server).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        let signed_in = unix_now() - 60;
        plant_password_session(&server, &browser, &alice, signed_in).await;
        let old_session = browser.cookie(&server, SESSION_COOKIE).unwrap();

        let url = server.authorize_url(&client, &[("acr_values", MFA)]);
        let page = step_up_page(&server, &browser, &url).await;
        assert!(is_code_form(&page), "{page}");
        let callback = finish_with_code(&server, &browser, &page, &unused_code(&secret)).await;

        let claims = claims_of(&server, &client, &callback).await;
        assert_eq!(claims["sub"], alice.as_str());
        assert_eq!(claims["acr"], MFA);
        assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);
        assert!(claims["auth_time"].as_i64().unwrap() >= signed_in + 60);
        assert_eq!(claims["sid"], "planted");
        assert_ne!(
            browser.cookie(&server, SESSION_COOKIE).unwrap(),
            old_session
        );

        // The old session id opens nothing any more.
        let holder = Browser::new();
        holder.plant_cookie(&server, SESSION_COOKIE, &old_session);
        let silent = server.authorize_url(&client, &[("prompt", "none")]);
        assert_error_redirect(&server, &holder.get(&silent).await, "login_required");

        let step_ups = events_of(&server, "login.step_up").await;
        assert_eq!(step_ups.len(), 1);
        assert_eq!(step_ups[0].outcome, "success");
        assert_eq!(step_ups[0].user_id.as_deref(), Some(alice.as_str()));
        server.stop().await;
    }
}

/// Alice, with a TOTP authenticator enrolled through a login of her own; her id, the secret,
/// and the recovery codes the enrolment showed.
async fn alice_with_recovery_codes(server: &TestServer) -> (String, Vec<u8>, Vec<String>) {
    let alice = server.create_user("alice").await;
    let client = server.create_mfa_client().await;
    let browser = Browser::new();
    let login = login_page(server, &browser, &client).await;
    let response = browser
        .submit_login(server, &login, "alice", PASSWORD)
        .await;
    let enrolment = page(browser.follow(&server.issuer, response).await);
    let secret = shown_secret(&enrolment);
    let response = submit_code(server, &browser, &enrolment, &totp(&secret, unix_now())).await;
    let shown = page_of(response).await;
    let codes: Vec<String> = shown
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{shown}");
    (alice, secret, codes)
}

/// Issue 6: a step-up is one request, so one audit event. A wrong code is its factor's
/// failure, as in any login; the right factor is `login.step_up` alone (no `login.totp` or
/// `login.recovery_code` beside it), naming the factor, with the `amr` (RFC 8176) and `acr`
/// of the upgraded session, whose public `sid` it keeps.
#[tokio::test]
async fn a_step_up_is_one_event_naming_its_factor() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, secret, codes) = alice_with_recovery_codes(&server).await;
        let client = server.create_client(false, true).await;
        let who = (Some(alice.as_str()), Some(client.id.as_str()));
        let url = server.authorize_url(&client, &[("acr_values", MFA)]);
        let steps = [
            (
                "login.totp",
                unused_code(&secret),
                json!({ "factor": "login.totp", "amr": "pwd otp mfa", "acr": MFA }),
            ),
            (
                "login.recovery_code",
                codes[0].clone(),
                json!({ "factor": "login.recovery_code", "amr": "pwd mfa", "acr": MFA }),
            ),
        ];
        for (factor, right, expected) in steps {
            // The last step-up's session keeps the public sid that each planted one has.
            let mut tx = server.provider.store().begin().await.unwrap();
            tx.delete_user_sessions(&alice).await.unwrap();
            tx.commit().await.unwrap();
            let browser = Browser::new();
            plant_password_session(&server, &browser, &alice, unix_now()).await;
            let mut trail = Trail::after_setup(&server).await;
            let page = step_up_page(&server, &browser, &url).await;
            trail
                .one("the request", success("authorization.request", None, who.1))
                .await;

            let wrong = match factor {
                "login.totp" => totp(&secret, unix_now() - 3600),
                _ => "0000-0000-0000".to_string(),
            };
            let refused = submit_code(&server, &browser, &page, &wrong).await;
            assert!(page_of(refused).await.contains(INCORRECT_CODE));
            let detail = trail.one(factor, failure(factor, who.0, who.1)).await;
            assert_eq!(detail, json!({ "reason": "wrong_code" }));

            let response = submit_code(&server, &browser, &page, &right).await;
            assert_eq!(location(&response), Some(server.url("/resume")));
            let events = trail.exactly("the right factor", 1).await;
            let event = &events[0];
            assert_eq!(
                (event.event_type.as_str(), event.outcome.as_str()),
                ("login.step_up", "success"),
                "{factor}"
            );
            assert_eq!((event.user_id.as_deref(), event.client_id.as_deref()), who);
            assert_eq!(event.session_id.as_deref(), Some("planted"));
            let detail: Value = serde_json::from_str(&event.detail).unwrap();
            assert_eq!(detail, expected);
        }
        server.stop().await;
    }
}

/// A client that requires a second factor, reached with a password session, takes the
/// person through the same step-up.
#[tokio::test]
async fn a_client_that_requires_mfa_steps_a_password_session_up() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, secret) = alice_with_authenticator(&server).await;
        let required = server.create_mfa_client().await;
        let browser = Browser::new();
        plant_password_session(&server, &browser, &alice, unix_now()).await;

        let url = server.authorize_url(&required, &[]);
        let page = step_up_page(&server, &browser, &url).await;
        let callback = finish_with_code(&server, &browser, &page, &unused_code(&secret)).await;
        let claims = claims_of(&server, &required, &callback).await;
        assert_eq!(claims["acr"], MFA);
        assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);
        server.stop().await;
    }
}

/// A person without an authenticator enrols one only after giving the password within the
/// same interaction: a session alone, perhaps stolen, never reaches an enrolment secret.
#[tokio::test]
async fn a_person_without_a_factor_gives_the_password_before_enrolling() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let required = server.create_mfa_client().await;
        let browser = Browser::new();
        browser
            .sign_in(&server, &server.authorize_url(&client, &[]), "alice")
            .await;

        let response = browser.get(&server.authorize_url(&required, &[])).await;
        assert_sent_to_login(&server, &response);
        let url = server.authorize_url(&client, &[("acr_values", MFA)]);
        assert_sent_to_login(&server, &browser.get(&url).await);
        assert_sent_to_login(&server, &browser.get(&server.url("/factor")).await);

        let callback = password_then_enrol(&server, &browser, &url).await;
        let claims = claims_of(&server, &client, &callback).await;
        assert_eq!(claims["acr"], MFA);
        assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);
        server.stop().await;
    }
}

/// The factor checked is the session's person's: bob's valid code does nothing for alice.
#[tokio::test]
async fn the_factor_checked_is_the_sessions_own_persons() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, alices) = alice_with_authenticator(&server).await;
        server.create_user("bob").await;
        let bobs = server.enrol_totp("bob").await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        plant_password_session(&server, &browser, &alice, unix_now()).await;

        let url = server.authorize_url(&client, &[("acr_values", MFA)]);
        let page = step_up_page(&server, &browser, &url).await;
        let refused = submit_code(&server, &browser, &page, &unused_code(&bobs)).await;
        assert!(page_of(refused).await.contains(INCORRECT_CODE));

        let callback = finish_with_code(&server, &browser, &page, &unused_code(&alices)).await;
        let claims = claims_of(&server, &client, &callback).await;
        assert_eq!(claims["sub"], alice.as_str());
        assert_eq!(claims["acr"], MFA);
        server.stop().await;
    }
}

/// OIDC Core §3.1.2.6: `prompt=none` with a live session that needs a second factor (given,
/// or enrolled after the password) is `interaction_required`, not `login_required`: the
/// person is logged in, but must act.
#[tokio::test]
async fn prompt_none_needs_interaction_when_a_step_up_is_due() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let carol = server.create_user("carol").await;
        server.enrol_totp("carol").await;
        server.create_user("alice").await;
        let optional = server.create_client(false, true).await;
        let required = server.create_mfa_client().await;
        let alices = Browser::new();
        alices
            .sign_in(&server, &server.authorize_url(&optional, &[]), "alice")
            .await;
        let carols = Browser::new();
        plant_password_session(&server, &carols, &carol, unix_now()).await;

        let asked = [("prompt", "none"), ("acr_values", MFA)];
        for browser in [&alices, &carols] {
            let response = browser.get(&server.authorize_url(&optional, &asked)).await;
            assert_error_redirect(&server, &response, "interaction_required");
            let silent = server.authorize_url(&required, &[("prompt", "none")]);
            assert_error_redirect(&server, &browser.get(&silent).await, "interaction_required");

            // The same session serves a request it meets.
            let silent = server.authorize_url(&optional, &[("prompt", "none")]);
            callback_of(&browser.get(&silent).await);
        }

        // No session at all is a missing login.
        let silent = server.authorize_url(&optional, &asked);
        let response = Browser::new().get(&silent).await;
        assert_error_redirect(&server, &response, "login_required");
        server.stop().await;
    }
}

/// The acr_values rule: unknown values are ignored, and a request is met by a session of
/// the weakest class it lists (or a stronger one).
#[tokio::test]
async fn acr_values_are_met_by_the_weakest_known_class_listed() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        browser
            .sign_in(&server, &server.authorize_url(&client, &[]), "alice")
            .await;

        for values in [
            "urn:mace:incommon:iap:silver",
            "urn:tessera:acr:mfa urn:tessera:acr:pwd",
            "urn:tessera:acr:pwd",
        ] {
            let url = server.authorize_url(&client, &[("acr_values", values)]);
            let callback = callback_of(&browser.get(&url).await);
            let claims = claims_of(&server, &client, &callback).await;
            assert_eq!(claims["acr"], PWD, "{values}");
        }
        server.stop().await;
    }
}

/// A class the person cannot reach (`phr` needs a WebAuthn key, which alice does not have)
/// is asked for as the best one they can: two factors. The login goes on and the ID token
/// says what it reached, never what was asked.
#[tokio::test]
async fn a_class_beyond_reach_is_reported_honestly() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        browser
            .sign_in(&server, &server.authorize_url(&client, &[]), "alice")
            .await;

        let url = server.authorize_url(&client, &[("acr_values", "phr")]);
        let callback = password_then_enrol(&server, &browser, &url).await;
        assert_eq!(claims_of(&server, &client, &callback).await["acr"], MFA);

        // A two-factor session is then as far as alice can go: no page, the honest class.
        for values in ["phrh", "phrh urn:tessera:acr:mfa", "phr urn:example:gold"] {
            let url = server.authorize_url(&client, &[("acr_values", values)]);
            let callback = callback_of(&browser.get(&url).await);
            let claims = claims_of(&server, &client, &callback).await;
            assert_eq!(claims["acr"], MFA, "{values}");
        }
        server.stop().await;
    }
}

/// OIDC Core §12.2: an ID token from a refresh speaks for the same login, so its `acr` is
/// that login's, derived from the `amr` each refresh token keeps.
#[tokio::test]
async fn refreshed_id_tokens_keep_the_acr_of_their_login() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let scope = "openid offline_access";
        let browser = Browser::new();
        let url = server.authorize_url(&client, &[("scope", scope)]);
        let first = browser.sign_in(&server, &url, "alice").await;
        let password_tokens = server.tokens_from(&client, &first).await;

        let url = server.authorize_url(&client, &[("scope", scope), ("acr_values", MFA)]);
        let callback = password_then_enrol(&server, &browser, &url).await;
        let two_factor_tokens = server.tokens_from(&client, &callback).await;

        for (tokens, acr, methods) in [
            (&password_tokens, PWD, vec!["pwd"]),
            (&two_factor_tokens, MFA, vec!["pwd", "otp", "mfa"]),
        ] {
            let refresh_token = text(tokens, "refresh_token");
            let refreshed = server.refresh(&client, refresh_token, None).await;
            let claims = id_token_claims(&assert_tokens_json(refreshed).await);
            assert_eq!(claims["acr"], acr);
            assert_eq!(amr(&claims), methods);
        }
        server.stop().await;
    }
}

/// The interaction cookie of a step-up, carried to another browser (with a session of its
/// own, or none), shows nothing and finishes nothing, even with the right code; the
/// browser whose session it upgrades still can, with that same code.
#[tokio::test]
async fn a_step_up_finishes_only_in_the_browser_whose_session_it_upgrades() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, secret) = alice_with_authenticator(&server).await;
        server.create_user("bob").await;
        let client = server.create_client(false, true).await;
        let owner = Browser::new();
        plant_password_session(&server, &owner, &alice, unix_now()).await;
        let url = server.authorize_url(&client, &[("acr_values", MFA)]);
        let page = step_up_page(&server, &owner, &url).await;
        let interaction = owner.cookie(&server, INTERACTION_COOKIE).unwrap();
        let code = unused_code(&secret);

        let bobs = Browser::new();
        bobs.sign_in(&server, &server.authorize_url(&client, &[]), "bob")
            .await;
        for other in [Browser::new(), bobs] {
            other.plant_cookie(&server, INTERACTION_COOKIE, &interaction);
            let shown = other.get(&server.url("/factor")).await;
            assert_error_page(shown, "invalid_request").await;
            let submitted = submit_code(&server, &other, &page, &code).await;
            assert!(submitted.headers().get("set-cookie").is_none());
            assert_error_page(submitted, "invalid_request").await;
        }

        let callback = finish_with_code(&server, &owner, &page, &code).await;
        assert_eq!(
            claims_of(&server, &client, &callback).await["sub"],
            alice.as_str()
        );
        server.stop().await;
    }
}

/// The session a step-up upgrades must still be live when the factor arrives: one ended
/// meanwhile (here through the store, as logout or an administrator would) leaves nothing
/// to upgrade. The person is sent to log in, and no session comes of the code.
#[tokio::test]
async fn a_step_up_needs_its_session_to_be_live() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, secret) = alice_with_authenticator(&server).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        plant_password_session(&server, &browser, &alice, unix_now()).await;
        let url = server.authorize_url(&client, &[("acr_values", MFA)]);
        let page = step_up_page(&server, &browser, &url).await;

        let mut tx = server.provider.store().begin().await.unwrap();
        tx.delete_user_sessions(&alice).await.unwrap();
        tx.commit().await.unwrap();

        let response = submit_code(&server, &browser, &page, &unused_code(&secret)).await;
        assert_sent_to_login(&server, &response);
        assert!(response.headers().get("set-cookie").is_none());
        assert!(events_of(&server, "login.step_up").await.is_empty());
        server.stop().await;
    }
}

/// A step-up verifies a factor the person has and never enrols one: when the authenticator
/// is removed while the step is open (the session still live), the step shows no
/// enrolment secret and sends the person to the password.
#[tokio::test]
async fn a_step_up_never_enrols_a_factor() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, secret) = alice_with_authenticator(&server).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        plant_password_session(&server, &browser, &alice, unix_now()).await;
        let url = server.authorize_url(&client, &[("acr_values", MFA)]);
        let page = step_up_page(&server, &browser, &url).await;

        let mut tx = server.provider.store().begin().await.unwrap();
        tx.delete_factors(&alice).await.unwrap();
        tx.commit().await.unwrap();

        assert_sent_to_login(&server, &browser.get(&server.url("/factor")).await);
        let response = submit_code(&server, &browser, &page, &unused_code(&secret)).await;
        assert_sent_to_login(&server, &response);
        assert!(server
            .provider
            .store()
            .totp_factor(&alice)
            .await
            .unwrap()
            .is_none());
        server.stop().await;
    }
}

/// OIDC Core §3.1.2.1 `max_age`: a session that grows too old while its step-up is open
/// needs the password again, not only the factor; so does one already too old when the
/// request arrives. The login that follows asks for the factor too.
#[tokio::test]
async fn a_session_too_old_for_max_age_gives_the_password_again() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, secret) = alice_with_authenticator(&server).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        let signed_in = unix_now() - 3;
        plant_password_session(&server, &browser, &alice, signed_in).await;

        // Fresh enough now (3 or 4 seconds old), too old once the code arrives.
        let url = server.authorize_url(&client, &[("max_age", "5"), ("acr_values", MFA)]);
        let page = step_up_page(&server, &browser, &url).await;
        tokio::time::sleep(Duration::from_millis(3100)).await;
        let code = unused_code(&secret);
        assert_sent_to_login(&server, &submit_code(&server, &browser, &page, &code).await);

        assert_sent_to_login(&server, &browser.get(&url).await);
        let login = page_of(browser.get(&server.url("/login")).await).await;
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        assert_eq!(location(&response), Some(server.url("/factor")));
        let page = page_of(browser.get(&server.url("/factor")).await).await;
        assert!(is_code_form(&page), "{page}");
        // The refused submission checked nothing, so its code is still unused.
        let callback = finish_with_code(&server, &browser, &page, &code).await;
        let claims = claims_of(&server, &client, &callback).await;
        assert_eq!(claims["acr"], MFA);
        assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);
        assert!(claims["auth_time"].as_i64().unwrap() >= signed_in + 6);
        assert_ne!(claims["sid"], "planted");
        server.stop().await;
    }
}

/// OIDC Core §3.1.2.1 `max_age` for a two-factor session: when stale, it is a full login
/// again, the password and then the code.
#[tokio::test]
async fn a_stale_session_logs_in_again_with_every_factor() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_mfa_client().await;
        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        let enrolment = page(browser.follow(&server.issuer, response).await);
        let (secret, first) = enrol_on(&server, &browser, &enrolment).await;
        let before = claims_of(&server, &client, &first).await;
        assert_eq!(before["acr"], MFA);

        tokio::time::sleep(Duration::from_millis(2100)).await;
        let url = server.authorize_url(&client, &[("max_age", "1")]);
        assert_sent_to_login(&server, &browser.get(&url).await);
        let login = page_of(browser.get(&server.url("/login")).await).await;
        let response = browser
            .submit_login(&server, &login, "alice", PASSWORD)
            .await;
        assert_eq!(location(&response), Some(server.url("/factor")));
        let factor = page_of(browser.get(&server.url("/factor")).await).await;
        assert!(is_code_form(&factor), "{factor}");
        let second = finish_with_code(&server, &browser, &factor, &unused_code(&secret)).await;
        let after = claims_of(&server, &client, &second).await;
        assert_eq!(after["acr"], MFA);
        assert_eq!(amr(&after), ["pwd", "otp", "mfa"]);
        let (before, after) = (before["auth_time"].as_i64(), after["auth_time"].as_i64());
        assert!(after.unwrap() >= before.unwrap() + 2);
        server.stop().await;
    }
}

/// The consent step re-checks the class too: a client that starts to require a second
/// factor while its consent page is open gets the step-up before any code.
#[tokio::test]
async fn consent_cannot_skip_a_step_up_that_became_due() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (alice, secret) = alice_with_authenticator(&server).await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        plant_password_session(&server, &browser, &alice, unix_now()).await;
        let url = server.authorize_url(&client, &[("prompt", "consent")]);
        let consent = page(browser.visit(&server, &url).await);

        let store = server.provider.store();
        accounts::set_client_mfa(store, &client.id, Some(MfaPolicy::Required), unix_now())
            .await
            .unwrap();
        let approved = browser.approve(&server, &consent).await;
        assert_eq!(location(&approved), Some(server.url("/factor")));

        let factor = page_of(browser.get(&server.url("/factor")).await).await;
        let response = submit_code(&server, &browser, &factor, &unused_code(&secret)).await;
        assert_eq!(location(&response), Some(server.url("/resume")));
        let consent = page(browser.visit(&server, &server.url("/resume")).await);
        let callback = callback_of(&browser.approve(&server, &consent).await);
        assert_eq!(claims_of(&server, &client, &callback).await["acr"], MFA);
        server.stop().await;
    }
}
