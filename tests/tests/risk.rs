//! Risk scoring end to end: each login is scored from where it comes (the address a trusted
//! proxy forwards, placed by a GeoIP database the kit writes) and from the browser it comes
//! in, and the score decides: the login goes on, a second factor is owed, or it is refused
//! with an alert. Events carry the score and its reasons, and the ID token carries the
//! `urn:tessera:risk` claim when the request asked for it.
//!
//! Every server here scores with [`policy`], written out below, so that each expected
//! score is a sum of its weights. The unusual-hour signal is off: it depends on the time of
//! day the test runs (its rule is tested with a fixed clock in `tessera-core`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{json, Value};
use tessera_core::maintenance::forget_risk_history;
use tessera_core::risk::RiskSettings;
use tessera_core::unix_now;
use tessera_e2e::admin_users::USERS_RW;
use tessera_e2e::expect::*;
use tessera_e2e::factors::{
    enrol_on, id_token_claims, is_code_form, is_enrolment, submit_code, totp,
};
use tessera_e2e::geoip::{self, ScratchDir};
use tessera_e2e::lifecycle::{assert_tokens_json, text, ClientSpec};
use tessera_e2e::trail::Trail;
use tessera_e2e::webauthn::{csrf_of, SoftKey};
use tessera_e2e::{
    engines, location, Browser, Followed, IssuerHost, TestClient, TestServer, PASSWORD,
};
use tessera_server::ServerOptions;
use tessera_store::testing::backdate_last_place;
use tessera_store::{AuditFilter, Engine, StoredAuditEvent};

/// Two addresses of one /24 in Paris, one in Sydney (see the kit's `geoip` module).
const PARIS: &str = "192.0.2.10";
const PARIS_TOO: &str = "192.0.2.99";
const SYDNEY: &str = "198.51.100.7";

/// What a page that told a login refused for its risk apart from a wrong password would say:
/// it would tell whoever typed the password that it was right.
const TELLTALES: [&str; 3] = ["second factor", "risk", "score"];

/// The page after a right password refused for its risk reads as a wrong password's.
fn reads_as_a_failed_login(shown: &str) {
    assert!(shown.contains(LOGIN_FAILED), "{shown}");
    for telltale in TELLTALES {
        assert!(
            !shown.to_lowercase().contains(telltale),
            "{telltale}: {shown}"
        );
    }
}

/// `user_id`'s last password step scored 40 for `reasons`, owed a second factor they lack,
/// and was refused on a page that reads as a wrong password's.
async fn refused_for_a_missing_factor(
    server: &TestServer,
    user_id: &str,
    shown: &str,
    reasons: &str,
) {
    reads_as_a_failed_login(shown);
    let refused = last_event(server, user_id, "login.password").await;
    assert_eq!(
        scored(&refused),
        (
            "failure",
            Some(40),
            Some(reasons),
            json!("risk_needs_factor")
        )
    );
}

/// The scope that asks for the claim.
const RISK_SCOPE: &str = "urn:tessera:risk";

/// The policy of these tests: new device 20, new network 15, new country 25, impossible
/// travel 50, recent failures 20 (from 3 failures), unusual hour off; a second factor above
/// 30, a refusal above 80; networks and countries remembered for 30 days.
fn policy(geoip_database: Option<PathBuf>) -> RiskSettings {
    let mut policy = RiskSettings::default();
    policy.weights.new_device = 20;
    policy.weights.new_network = 15;
    policy.weights.new_country = 25;
    policy.weights.impossible_travel = 50;
    policy.weights.unusual_hour = 0;
    policy.weights.recent_failures = 20;
    policy.mfa_above = 30;
    policy.refuse_above = 80;
    policy.travel_speed_kmh = 1000;
    policy.recent_failures_min = 3;
    policy.history_days = 30;
    policy.geoip_database = geoip_database;
    policy
}

/// A server behind a trusted proxy (the loopback the tests connect from), scoring with
/// [`policy`] and, when `dir` is given, the test GeoIP database written there.
async fn start(engine: Engine, host: IssuerHost, dir: Option<&ScratchDir>) -> TestServer {
    let database = dir.map(|dir| geoip::test_database(dir.path()));
    TestServer::start_as(engine, host, ServerOptions::default(), |settings| {
        settings.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        settings.risk = policy(database);
    })
    .await
}

/// A first-party client (no consent page) registered for the risk scope, whose logins need
/// no second factor of their own.
async fn risk_client(server: &TestServer) -> TestClient {
    server
        .create_client_spec(ClientSpec {
            scope: "openid offline_access urn:tessera:risk",
            ..ClientSpec::default()
        })
        .await
}

/// A request that logs in again whatever session the browser has, with `scope`.
fn login_url(server: &TestServer, client: &TestClient, scope: &str) -> String {
    server.authorize_url(client, &[("prompt", "login"), ("scope", scope)])
}

/// Opens `url` in `browser`, gives `username`'s password, and follows where it leads.
async fn password_step(
    server: &TestServer,
    browser: &Browser,
    url: &str,
    username: &str,
) -> Followed {
    let login = page(browser.visit(server, url).await);
    let response = browser
        .submit_login(server, &login, username, PASSWORD)
        .await;
    browser.follow(&server.issuer, response).await
}

/// A login that must end at the client with a code; returns the callback.
async fn signs_in(server: &TestServer, browser: &Browser, url: &str, username: &str) -> String {
    match password_step(server, browser, url, username).await {
        Followed::LeftIssuer(callback) => callback,
        other => panic!("the login did not end at the client: {other:?}"),
    }
}

/// The newest event of `event_type` about `user_id`.
async fn last_event(server: &TestServer, user_id: &str, event_type: &str) -> StoredAuditEvent {
    let filter = AuditFilter {
        user_id: Some(user_id),
        event_type: Some(event_type),
        ..AuditFilter::default()
    };
    let events = server
        .provider
        .store()
        .audit_events(&filter, 1)
        .await
        .unwrap();
    events
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {event_type} event"))
}

/// An event's outcome, score, reasons and `reason` detail.
fn scored(event: &StoredAuditEvent) -> (&str, Option<i64>, Option<&str>, Value) {
    let detail: Value = serde_json::from_str(&event.detail).unwrap();
    (
        event.outcome.as_str(),
        event.risk_score,
        event.risk_reasons.as_deref(),
        detail["reason"].clone(),
    )
}

/// A person's first login has nothing to be new against (0); back on the same device and
/// network, nothing is new (0), and someone without a factor goes on without one. A new
/// laptop on that network is only a new device (20), below the threshold (30).
#[tokio::test]
async fn a_familiar_login_goes_on_without_a_second_factor() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let url = login_url(&server, &client, "openid");

        let home = Browser::from_address(PARIS);
        signs_in(&server, &home, &url, "alice").await;
        let first = last_event(&server, &alice, "login.password").await;
        assert_eq!(
            scored(&first),
            ("success", Some(0), Some("[]"), Value::Null)
        );

        signs_in(&server, &home.moved_to(PARIS_TOO), &url, "alice").await;
        let again = last_event(&server, &alice, "login.password").await;
        assert_eq!(
            scored(&again),
            ("success", Some(0), Some("[]"), Value::Null)
        );
        assert_eq!(again.source_ip.as_deref(), Some(PARIS_TOO));

        let laptop = Browser::from_address(PARIS_TOO);
        let offline = login_url(&server, &client, "openid offline_access");
        let callback = signs_in(&server, &laptop, &offline, "alice").await;
        let new_laptop = last_event(&server, &alice, "login.password").await;
        let laptop_score = ("success", Some(20), Some(r#"["new_device"]"#), Value::Null);
        assert_eq!(scored(&new_laptop), laptop_score);

        // The code and the refresh token that login led to carry its score (issue 6).
        let tokens = server.tokens_from(&client, &callback).await;
        let redeemed = last_event(&server, &alice, "token.authorization_code").await;
        assert_eq!(scored(&redeemed), laptop_score);
        let refreshed = server
            .refresh(&client, text(&tokens, "refresh_token"), None)
            .await;
        assert_tokens_json(refreshed).await;
        let refresh = last_event(&server, &alice, "token.refresh_token").await;
        assert_eq!(scored(&refresh), laptop_score);
        let issued = last_event(&server, &alice, "authorization.code_issued").await;
        assert_eq!(scored(&issued), laptop_score);
        // And name the session the login opened, by its public sid.
        assert!(new_laptop.session_id.is_some());
        assert_eq!(issued.session_id, new_laptop.session_id);
        assert_eq!(redeemed.session_id, new_laptop.session_id);
        assert_eq!(refresh.session_id, new_laptop.session_id);
        server.stop().await;
    }
}

/// A known device in a new network and a new country scores 15 + 25 = 40, above 30: a
/// person with an authenticator gives its code on a client that needs none. The factor's
/// event carries the password step's score, and the ID token, asked for the risk scope,
/// says what was decided.
#[tokio::test]
async fn a_new_network_and_country_ask_a_person_with_totp_for_it() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;

        // Alice enrols from Paris, through a client that requires a factor: her baseline.
        let mfa_client = server.create_mfa_client().await;
        let paris = Browser::from_address(PARIS);
        let enrol_url = server.authorize_url(&mfa_client, &[]);
        let enrolment = page(password_step(&server, &paris, &enrol_url, "alice").await);
        assert!(is_enrolment(&enrolment), "{enrolment}");
        let (secret, _) = enrol_on(&server, &paris, &enrolment).await;
        // Two days later (no impossible travel), the same browser in Sydney.
        backdate_last_place(server.provider.store(), &alice, 2 * 86_400).await;
        let sydney = paris.moved_to(SYDNEY);

        let client = risk_client(&server).await;
        let scope = format!("openid {RISK_SCOPE}");
        let url = login_url(&server, &client, &scope);
        let factor = page(password_step(&server, &sydney, &url, "alice").await);
        assert!(is_code_form(&factor), "{factor}");
        let reasons = r#"["new_network","new_country"]"#;
        let password = last_event(&server, &alice, "login.password").await;
        assert_eq!(
            scored(&password),
            ("success", Some(40), Some(reasons), Value::Null)
        );
        // A password alone teaches nothing: whoever stops at the factor may be an attacker.
        let store = server.provider.store();
        assert!(!store.network_seen(&alice, "198.51.100.0/24").await.unwrap());

        // The next time step: the enrolment spent this one.
        let code = totp(&secret, unix_now() + 30);
        let response = submit_code(&server, &sydney, &factor, &code).await;
        let Followed::LeftIssuer(callback) = sydney.follow(&server.issuer, response).await else {
            panic!("the code did not finish the login");
        };
        let factor_event = last_event(&server, &alice, "login.totp").await;
        assert_eq!(
            scored(&factor_event),
            ("success", Some(40), Some(reasons), Value::Null)
        );
        assert!(store.network_seen(&alice, "198.51.100.0/24").await.unwrap());
        assert!(store.country_seen(&alice, "AU").await.unwrap());

        let claims = id_token_claims(&server.tokens_from(&client, &callback).await);
        assert_eq!(
            claims[RISK_SCOPE],
            json!({ "score": 40, "reasons": ["new_network", "new_country"], "decision": "mfa" })
        );
        server.stop().await;
    }
}

/// The same score for a person without a second factor: refused with a message saying
/// why, and never enrolled, even by a client that requires a factor and would otherwise
/// enrol them (NIST SP 800-63B §6.1.2.1: the password holder may be the attacker).
#[tokio::test]
async fn a_person_without_a_factor_is_refused_when_the_risk_needs_one() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let bob = server.create_user("bob").await;
        let client = risk_client(&server).await;
        let url = login_url(&server, &client, "openid");
        let paris = Browser::from_address(PARIS);
        signs_in(&server, &paris, &url, "bob").await;
        backdate_last_place(server.provider.store(), &bob, 2 * 86_400).await;
        let sydney = paris.moved_to(SYDNEY);

        for client in [client.clone(), server.create_mfa_client().await] {
            let url = server.authorize_url(&client, &[("prompt", "login")]);
            let shown = page(password_step(&server, &sydney, &url, "bob").await);
            let reasons = r#"["new_network","new_country"]"#;
            refused_for_a_missing_factor(&server, &bob, &shown, reasons).await;
            assert!(shown.contains("name=\"password\""), "the login form again");
            assert!(!is_enrolment(&shown));
        }

        // Nothing was learned from the refusals: Sydney is still new, and no session exists.
        let shown = page(password_step(&server, &sydney, &url, "bob").await);
        reads_as_a_failed_login(&shown);
        server.stop().await;
    }
}

/// Paris, then Sydney a moment later on the same browser: 15 + 25 + 50 = 90, above 80. The
/// attempt reads as any failed login (nothing tells whoever typed the password that it was
/// right, or what the score was) and a `risk.alert` event stands beside the failure.
#[tokio::test]
async fn impossible_travel_is_refused_with_an_alert() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let url = login_url(&server, &client, "openid");
        let paris = Browser::from_address(PARIS);
        signs_in(&server, &paris, &url, "alice").await;

        let shown = page(password_step(&server, &paris.moved_to(SYDNEY), &url, "alice").await);
        assert!(shown.contains(LOGIN_FAILED), "{shown}");
        assert!(!shown.contains("90"), "the score is not shown: {shown}");

        let reasons = r#"["new_network","new_country","impossible_travel"]"#;
        let refused = last_event(&server, &alice, "login.password").await;
        assert_eq!(
            scored(&refused),
            ("failure", Some(90), Some(reasons), json!("risk_refused"))
        );
        let alert = last_event(&server, &alice, "risk.alert").await;
        assert_eq!(alert.outcome, "failure");
        assert_eq!(alert.risk_score, Some(90));
        assert_eq!(alert.risk_reasons.as_deref(), Some(reasons));
        assert_eq!(alert.source_ip.as_deref(), Some(SYDNEY));
        server.stop().await;
    }
}

/// A login from an address the GeoIP database does not place (198.18.0.0/15, RFC 2544's
/// benchmarking range) leaves the last known place as it was: Sydney a moment later is
/// still measured from Paris, and refused (15 + 25 + 50 = 90).
#[tokio::test]
async fn travel_is_measured_from_the_last_known_place() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let url = login_url(&server, &client, "openid");
        let paris = Browser::from_address(PARIS);
        signs_in(&server, &paris, &url, "alice").await;
        signs_in(&server, &paris.moved_to("198.18.0.1"), &url, "alice").await;
        let unplaced = last_event(&server, &alice, "login.password").await;
        assert_eq!(
            scored(&unplaced),
            ("success", Some(15), Some(r#"["new_network"]"#), Value::Null)
        );

        let shown = page(password_step(&server, &paris.moved_to(SYDNEY), &url, "alice").await);
        assert!(shown.contains(LOGIN_FAILED), "{shown}");
        let refused = last_event(&server, &alice, "login.password").await;
        assert_eq!(refused.risk_score, Some(90));
        server.stop().await;
    }
}

/// Single sign-on from the network the session's login came from, or from another one that
/// scores below the refusal, needs no login. The same session cookie used a moment later
/// from Sydney (15 + 25 + 50 = 90) serves nothing: a fresh login is asked for (with
/// `prompt=none`, `login_required`), and a `risk.alert` names the session.
#[tokio::test]
async fn a_session_used_from_an_impossible_place_needs_a_fresh_login() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let paris = Browser::from_address(PARIS);
        let url = server.authorize_url(&client, &[]);
        signs_in(&server, &paris, &url, "alice").await;

        for nearby in [PARIS_TOO, "198.18.0.1"] {
            let followed = paris.moved_to(nearby).visit(&server, &url).await;
            assert!(
                matches!(&followed, Followed::LeftIssuer(callback) if callback.contains("code=")),
                "single sign-on from {nearby}: {followed:?}"
            );
        }

        let sydney = paris.moved_to(SYDNEY);
        let shown = page(sydney.visit(&server, &url).await);
        assert!(
            shown.contains("name=\"password\""),
            "the login page: {shown}"
        );
        let alert = last_event(&server, &alice, "risk.alert").await;
        let detail: Value = serde_json::from_str(&alert.detail).unwrap();
        assert_eq!(detail["login"], "session");
        assert_eq!(alert.risk_score, Some(90));
        assert!(alert.session_id.is_some());

        let silent = server.authorize_url(&client, &[("prompt", "none")]);
        let response = sydney.get(&silent).await;
        assert_error_redirect(&server, &response, "login_required");
        server.stop().await;
    }
}

/// Issue 6: single sign-on from another network that scores below the refusal goes on, and
/// the request's one event carries its own score, not the login's. 198.18.0.0/15 (RFC 2544)
/// is in no GeoIP network, so from there only the network is new: 15, where the login scored
/// 0 (the baseline). Whether the request issues a code at once or opens the consent page, its
/// event says 15; from the login's own /24 nothing is scored again, and the code's event
/// carries the login's 0. The ID token claim keeps describing the login.
#[tokio::test]
async fn single_sign_on_from_another_network_is_recorded_with_its_new_score() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let scope = format!("openid {RISK_SCOPE}");
        let url = server.authorize_url(&client, &[("scope", &scope)]);
        let paris = Browser::from_address(PARIS);
        signs_in(&server, &paris, &url, "alice").await;
        let login = last_event(&server, &alice, "login.password").await;
        assert_eq!(
            scored(&login),
            ("success", Some(0), Some("[]"), Value::Null)
        );
        let consenting = server
            .create_client_spec(ClientSpec {
                first_party: false,
                scope: "openid",
                ..ClientSpec::default()
            })
            .await;
        let mut trail = Trail::after_setup(&server).await;

        let nearby = paris.moved_to(PARIS_TOO).visit(&server, &url).await;
        assert!(matches!(nearby, Followed::LeftIssuer(_)), "{nearby:?}");
        let events = trail
            .exactly("single sign-on from the login's /24", 1)
            .await;
        assert_eq!(events[0].event_type, "authorization.code_issued");
        assert_eq!(
            scored(&events[0]),
            ("success", Some(0), Some("[]"), Value::Null)
        );

        let elsewhere = paris.moved_to("198.18.0.1");
        let Followed::LeftIssuer(callback) = elsewhere.visit(&server, &url).await else {
            panic!("single sign-on from another network below the refusal is served");
        };
        let events = trail
            .exactly("single sign-on from another network", 1)
            .await;
        let issued = &events[0];
        assert_eq!(issued.event_type, "authorization.code_issued");
        let rescored = ("success", Some(15), Some(r#"["new_network"]"#), Value::Null);
        assert_eq!(scored(issued), rescored);
        assert_eq!(issued.source_ip.as_deref(), Some("198.18.0.1"));
        assert_eq!(issued.session_id, login.session_id);
        let claims = id_token_claims(&server.tokens_from(&client, &callback).await);
        assert_eq!(
            claims[RISK_SCOPE],
            json!({ "score": 0, "reasons": [], "decision": "allow" })
        );
        trail.exactly("the code's redemption", 1).await;

        let consent_url = server.authorize_url(&consenting, &[]);
        let shown = page(elsewhere.visit(&server, &consent_url).await);
        assert!(
            shown.contains("name=\"decision\""),
            "the consent page: {shown}"
        );
        let events = trail.exactly("a request that opens consent", 1).await;
        let begun = &events[0];
        assert_eq!(begun.event_type, "authorization.request");
        let detail: Value = serde_json::from_str(&begun.detail).unwrap();
        assert_eq!(detail["next"], "consent");
        assert_eq!(
            (begun.risk_score, begun.risk_reasons.as_deref()),
            (Some(15), Some(r#"["new_network"]"#))
        );
        server.stop().await;
    }
}

/// Failed passwords before the right one (3, from this address) add 20: with a new device
/// (20), 40 is above 30, and a person without a factor is refused.
#[tokio::test]
async fn recent_failures_raise_the_score() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let url = login_url(&server, &client, "openid");
        signs_in(&server, &Browser::from_address(PARIS), &url, "alice").await;

        let laptop = Browser::from_address(PARIS_TOO);
        for _ in 0..3 {
            let login = page(laptop.visit(&server, &url).await);
            let response = laptop
                .submit_login(&server, &login, "alice", "wrong password")
                .await;
            assert!(page_of(response).await.contains(LOGIN_FAILED));
        }
        let shown = page(password_step(&server, &laptop, &url, "alice").await);
        let reasons = r#"["new_device","recent_failures"]"#;
        refused_for_a_missing_factor(&server, &alice, &shown, reasons).await;
        server.stop().await;
    }
}

/// The claim is Tessera's to give only when asked: an ID token for `openid` alone has none;
/// one for the risk scope has the login's assessment, and so do the ID tokens its refresh
/// token brings (the family keeps the assessment of the login that started it) unless the
/// refresh narrows the scope without it.
#[tokio::test]
async fn the_risk_claim_is_given_only_when_asked_for() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        server.create_user("alice").await;
        let client = risk_client(&server).await;
        let browser = Browser::from_address(PARIS);

        let plain = login_url(&server, &client, "openid");
        let callback = signs_in(&server, &browser, &plain, "alice").await;
        let claims = id_token_claims(&server.tokens_from(&client, &callback).await);
        assert!(claims.get(RISK_SCOPE).is_none(), "{claims}");

        let scope = format!("openid offline_access {RISK_SCOPE}");
        let asked = login_url(&server, &client, &scope);
        let callback = signs_in(&server, &browser, &asked, "alice").await;
        let tokens = server.tokens_from(&client, &callback).await;
        let expected = json!({ "score": 0, "reasons": [], "decision": "allow" });
        assert_eq!(id_token_claims(&tokens)[RISK_SCOPE], expected);

        let refreshed = server
            .refresh(&client, text(&tokens, "refresh_token"), None)
            .await;
        let refreshed = assert_tokens_json(refreshed).await;
        assert_eq!(id_token_claims(&refreshed)[RISK_SCOPE], expected);

        let narrowed = server
            .refresh(&client, text(&refreshed, "refresh_token"), Some("openid"))
            .await;
        let narrowed = id_token_claims(&assert_tokens_json(narrowed).await);
        assert!(narrowed.get(RISK_SCOPE).is_none(), "{narrowed}");

        let discovery: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(discovery["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(RISK_SCOPE)));
        assert!(discovery["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(RISK_SCOPE)));
        server.stop().await;
    }
}

/// A passkey alone is scored too: a second factor is in it already, but a refusal applies.
#[tokio::test]
async fn a_passkey_login_from_an_impossible_place_is_refused() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Localhost, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = server.create_mfa_client().await;
        let mut key = SoftKey::new(&server);

        // Alice registers a passkey from Paris as her first factor: her baseline.
        let paris = Browser::from_address(PARIS);
        let url = server.authorize_url(&client, &[]);
        let enrolment = page(password_step(&server, &paris, &url, "alice").await);
        let csrf = csrf_of(&enrolment);
        let options = paris
            .webauthn_options_json(&server, "/passkey-enrol/options", &csrf)
            .await;
        let credential = key.register(&options);
        let response = paris
            .post_credential(&server, "/passkey-enrol", &csrf, &credential)
            .await;
        page_of(response).await;

        // A moment later, the passkey alone from Sydney.
        let sydney = paris.moved_to(SYDNEY);
        let again = server.authorize_url(&client, &[("prompt", "login")]);
        let login = page(sydney.visit(&server, &again).await);
        let csrf = csrf_of(&login);
        let options = sydney
            .webauthn_options_json(&server, "/passkey-login/options", &csrf)
            .await;
        let assertion = serde_json::to_string(&key.discover(&options)).unwrap();
        let response = sydney
            .post_credential(&server, "/passkey-login", &csrf, &assertion)
            .await;
        assert_eq!(location(&response), None, "no session, no redirect");
        let shown = page_of(response).await;
        assert!(shown.contains("That passkey was not accepted."), "{shown}");

        let reasons = r#"["new_network","new_country","impossible_travel"]"#;
        let refused = last_event(&server, &alice, "login.passwordless").await;
        assert_eq!(
            scored(&refused),
            ("failure", Some(90), Some(reasons), json!("risk_refused"))
        );
        let alert = last_event(&server, &alice, "risk.alert").await;
        assert_eq!(alert.risk_score, Some(90));
        server.stop().await;
    }
}

/// Without a GeoIP database the two signals that need one cannot fire (Paris then Sydney
/// is only a new network, 15), and the admin API's risk policy says so; with one, it names
/// the database.
#[tokio::test]
async fn the_risk_policy_says_whether_geoip_is_on() {
    for engine in engines() {
        let server = start(engine, IssuerHost::Loopback, None).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let url = login_url(&server, &client, "openid");
        let paris = Browser::from_address(PARIS);
        signs_in(&server, &paris, &url, "alice").await;
        signs_in(&server, &paris.moved_to(SYDNEY), &url, "alice").await;
        let moved = last_event(&server, &alice, "login.password").await;
        assert_eq!(
            scored(&moved),
            ("success", Some(15), Some(r#"["new_network"]"#), Value::Null)
        );

        let (_, token) = server.service_token("admin:audit:read").await;
        let response = server
            .admin(reqwest::Method::GET, Some(&token), "/risk-policy", None)
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({
                "weights": {
                    "new_device": 20,
                    "new_network": 15,
                    "new_country": 25,
                    "impossible_travel": 50,
                    "unusual_hour": 0,
                    "recent_failures": 20,
                },
                "mfa_above": 30,
                "refuse_above": 80,
                "travel_speed_kmh": 1000,
                "usual_hours_min_logins": 10,
                "recent_failures_min": 3,
                "recent_failures_window": 3600,
                "history_days": 30,
                "geoip": {
                    "status": "off",
                    "reason": "no GeoIP database is configured (risk.geoip_database): \
                               new_country and impossible_travel are off",
                },
            })
        );
        let (_, keys_only) = server.service_token("admin:keys:read").await;
        let refused = server
            .admin(reqwest::Method::GET, Some(&keys_only), "/risk-policy", None)
            .await;
        assert_eq!(refused.status(), 403);
        server.stop().await;

        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let (_, token) = server.service_token("admin:audit:read").await;
        let response = server
            .admin(reqwest::Method::GET, Some(&token), "/risk-policy", None)
            .await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["geoip"],
            json!({ "status": "on", "database_type": geoip::DATABASE_TYPE })
        );
        server.stop().await;
    }
}

/// The kit's GeoIP writer, read back with the `maxminddb` crate: the metadata, each
/// documentation prefix's record, and an address outside them all.
#[test]
fn the_test_geoip_database_reads_back_with_maxminddb() {
    let dir = ScratchDir::new("risk");
    let path = geoip::test_database(dir.path());
    let reader = maxminddb::Reader::open_readfile(&path).unwrap();
    reader.verify().unwrap();
    assert_eq!(reader.metadata().database_type, geoip::DATABASE_TYPE);
    assert_eq!(reader.metadata().ip_version, 6);
    assert_eq!(reader.metadata().record_size, 24);

    let place = |address: &str| {
        let found = reader.lookup(address.parse().unwrap()).unwrap();
        let country: Option<String> = found
            .decode_path(&maxminddb::path!["country", "iso_code"])
            .unwrap();
        let latitude: Option<f64> = found
            .decode_path(&maxminddb::path!["location", "latitude"])
            .unwrap();
        let longitude: Option<f64> = found
            .decode_path(&maxminddb::path!["location", "longitude"])
            .unwrap();
        let radius: Option<u16> = found
            .decode_path(&maxminddb::path!["location", "accuracy_radius"])
            .unwrap();
        (country, latitude, longitude, radius)
    };
    let fr = (
        Some("FR".to_string()),
        Some(48.8566),
        Some(2.3522),
        Some(20),
    );
    assert_eq!(place("192.0.2.1"), fr);
    assert_eq!(place("192.0.2.255"), fr);
    assert_eq!(
        place("198.51.100.7"),
        (Some("AU".into()), Some(-33.8688), Some(151.2093), Some(20))
    );
    assert_eq!(place("203.0.113.200").0.as_deref(), Some("GB"));
    assert_eq!(place("2001:db8:1:2::3").0.as_deref(), Some("DE"));
    assert_eq!(place("192.0.3.1"), (None, None, None, None));
    assert_eq!(place("2001:db9::1"), (None, None, None, None));

    // And through Tessera's own reader, which falls back to nothing for unknown addresses.
    let ours = tessera_core::risk::geoip::GeoIp::open(&path).unwrap();
    let located = ours.locate("198.51.100.7".parse().unwrap());
    assert_eq!(located.country.as_deref(), Some("AU"));
    assert_eq!(located.place.unwrap().accuracy_km, 20.0);
    assert_eq!(ours.locate("127.0.0.1".parse().unwrap()).country, None);
}

/// The account page's and the admin API's "approximate location" of a device comes from the
/// same database: the country where it knows no names (the kit's database has none), nothing
/// for an address outside it or without a database.
#[tokio::test]
async fn a_devices_approximate_location_comes_from_the_geoip_database() {
    let dir = ScratchDir::new("risk");
    let server = start(Engine::Sqlite, IssuerHost::Loopback, Some(&dir)).await;
    let provider = &server.provider;
    assert_eq!(
        provider.approximate_location("192.0.2.10").as_deref(),
        Some("FR")
    );
    assert_eq!(
        provider.approximate_location("2001:db8::1").as_deref(),
        Some("DE")
    );
    assert_eq!(provider.approximate_location("192.0.3.1"), None);
    assert_eq!(provider.approximate_location("not an address"), None);
    server.stop().await;

    let plain = start(Engine::Sqlite, IssuerHost::Loopback, None).await;
    assert_eq!(plain.provider.approximate_location("192.0.2.10"), None);
    plain.stop().await;
}

/// The janitor forgets a network and a country unused for `history_days` (30 here): an
/// hour before that, nothing is forgotten and the same browser in Paris scores 0; once it
/// has passed, Paris is a new network and a new country again, 15 + 25 = 40, above 30, and
/// a person without a factor is refused. The device is remembered (its own life is 400
/// days), so it is not new.
#[tokio::test]
async fn a_forgotten_network_and_country_are_new_again() {
    const DAYS_30: i64 = 30 * 86_400;
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let url = login_url(&server, &client, "openid");
        let paris = Browser::from_address(PARIS);
        signs_in(&server, &paris, &url, "alice").await;
        let store = server.provider.store();
        let risk = &server.provider.settings().risk;

        let early = unix_now() + DAYS_30 - 3600;
        assert_eq!(forget_risk_history(store, risk, early).await.unwrap(), 0);
        signs_in(&server, &paris, &url, "alice").await;
        let kept = last_event(&server, &alice, "login.password").await;
        assert_eq!(scored(&kept), ("success", Some(0), Some("[]"), Value::Null));

        let late = unix_now() + DAYS_30 + 1;
        assert_eq!(forget_risk_history(store, risk, late).await.unwrap(), 2);
        assert!(!store.network_seen(&alice, "192.0.2.0/24").await.unwrap());
        assert!(!store.country_seen(&alice, "FR").await.unwrap());
        let shown = page(password_step(&server, &paris, &url, "alice").await);
        let reasons = r#"["new_network","new_country"]"#;
        refused_for_a_missing_factor(&server, &alice, &shown, reasons).await;
        server.stop().await;
    }
}

/// What the logins taught is personal data: deleting the person erases it.
#[tokio::test]
async fn deleting_a_person_erases_what_their_logins_taught() {
    for engine in engines() {
        let dir = ScratchDir::new("risk");
        let server = start(engine, IssuerHost::Loopback, Some(&dir)).await;
        let alice = server.create_user("alice").await;
        let client = risk_client(&server).await;
        let url = login_url(&server, &client, "openid");
        signs_in(&server, &Browser::from_address(PARIS), &url, "alice").await;
        let store = server.provider.store();
        assert!(store.risk_history(&alice).await.unwrap().is_some());
        assert!(store.network_seen(&alice, "192.0.2.0/24").await.unwrap());
        assert!(store.country_seen(&alice, "FR").await.unwrap());

        let (_, token) = server.service_token(USERS_RW).await;
        let (_, etag) = server.admin_user(&token, &alice).await;
        let response = server
            .admin_with(
                reqwest::Method::DELETE,
                Some(&token),
                &format!("/users/{alice}"),
                None,
                &[("if-match", etag.as_str())],
            )
            .await;
        assert_eq!(response.status(), 204);

        assert_eq!(store.risk_history(&alice).await.unwrap(), None);
        assert!(!store.network_seen(&alice, "192.0.2.0/24").await.unwrap());
        assert!(!store.country_seen(&alice, "FR").await.unwrap());
        server.stop().await;
    }
}
