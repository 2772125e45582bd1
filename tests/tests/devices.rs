//! A person's devices and sessions on the account page (issue 6, "Devices and sessions"):
//! two browsers of one person are two devices, named by what their user agents say; ending
//! one from the page signs that browser out and kills what it signed in to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use tessera_e2e::account::submit_action;
use tessera_e2e::devices::{
    app, app_login, device_entries, device_entry, device_id_of, queued_logouts, AppLogin,
    FIREFOX_LINUX, SAFARI_IOS,
};
use tessera_e2e::expect::{assert_sent_to_login, assert_token_error, page, page_of};
use tessera_e2e::{
    engines, hidden_field, location, query_param, Browser, TestClient, TestServer, PASSWORD,
};
use tessera_store::testing::backdate_sessions;
use tessera_store::StoredAuditEvent;

const FIREFOX: &str = "Firefox 126 on Linux";
const SAFARI: &str = "Safari 17 on iOS 17.4";
const THIS_DEVICE: &str = "<span class=\"badge\">This device</span>";

/// Alice signed in to the same app from a Firefox on Linux and a Safari on an iPhone.
struct TwoBrowsers {
    server: TestServer,
    alice: String,
    client: TestClient,
    firefox: Browser,
    safari: Browser,
    on_firefox: AppLogin,
    on_safari: AppLogin,
}

async fn two_browsers(server: TestServer) -> TwoBrowsers {
    let alice = server.create_user("alice").await;
    let client = app(&server).await;
    let firefox = Browser::with_user_agent(FIREFOX_LINUX);
    let safari = Browser::with_user_agent(SAFARI_IOS);
    let on_firefox = app_login(&server, &firefox, &client, "alice").await;
    let on_safari = app_login(&server, &safari, &client, "alice").await;
    TwoBrowsers {
        server,
        alice,
        client,
        firefox,
        safari,
        on_firefox,
        on_safari,
    }
}

/// The account page as `browser`, whose session is live, sees it.
async fn account_page(server: &TestServer, browser: &Browser) -> String {
    page_of(browser.get(&server.url("/account")).await).await
}

/// The notice a refused or finished action sends the page back with.
fn notice_of(server: &TestServer, response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303);
    let to = location(response).unwrap();
    assert!(to.starts_with(&server.url("/account?")), "{to}");
    query_param(&to, "done").unwrap()
}

async fn events_of(server: &TestServer, event_type: &str) -> Vec<StoredAuditEvent> {
    let events = server
        .provider
        .store()
        .recent_audit_events(100)
        .await
        .unwrap();
    events
        .into_iter()
        .filter(|e| e.event_type == event_type)
        .collect()
}

fn detail(event: &StoredAuditEvent) -> Value {
    serde_json::from_str(&event.detail).unwrap()
}

/// Whether `browser` still holds a live session: the account page shows instead of
/// sending it to log in.
async fn signed_in(server: &TestServer, browser: &Browser) -> bool {
    let response = browser.get(&server.url("/account")).await;
    match response.status().as_u16() {
        200 => true,
        _ => {
            assert_sent_to_login(server, &response);
            false
        }
    }
}

/// Each browser is a device, named by the browser and system its user agent gives, first
/// and last seen, from its address, with its session; "This device" marks the one looking.
#[tokio::test]
async fn the_page_lists_each_browser_as_a_device_and_marks_its_own() {
    for engine in engines() {
        let world = two_browsers(TestServer::start(engine).await).await;
        let server = &world.server;

        let seen_by_firefox = account_page(server, &world.firefox).await;
        assert_eq!(device_entries(&seen_by_firefox).len(), 2);
        let firefox = device_entry(&seen_by_firefox, FIREFOX);
        let safari = device_entry(&seen_by_firefox, SAFARI);
        assert!(firefox.contains(THIS_DEVICE), "{firefox}");
        assert!(!safari.contains(THIS_DEVICE), "{safari}");
        for entry in [firefox, safari] {
            assert!(entry.contains("<dt>Last address</dt><dd>127.0.0.1</dd>"));
            assert!(entry.contains("<dt>First seen</dt><dd>20"), "{entry}");
            assert!(entry.contains(" UTC</dd>"), "{entry}");
            // Without a GeoIP database there is no location to show.
            assert!(!entry.contains("Approximate location"), "{entry}");
            assert!(entry.contains("Signed in with password."), "{entry}");
            assert!(entry.contains("End this device"), "{entry}");
        }
        assert_eq!(
            hidden_field(firefox, "sid").as_deref(),
            Some(world.on_firefox.sid.as_str())
        );
        assert_eq!(
            hidden_field(safari, "sid").as_deref(),
            Some(world.on_safari.sid.as_str())
        );
        assert!(firefox.contains("This session"), "{firefox}");
        assert!(!safari.contains("This session"), "{safari}");

        let seen_by_safari = account_page(server, &world.safari).await;
        assert!(device_entry(&seen_by_safari, SAFARI).contains(THIS_DEVICE));
        assert!(!device_entry(&seen_by_safari, FIREFOX).contains(THIS_DEVICE));
        world.server.stop().await;
    }
}

/// Ending the other browser's device from the page: that browser is sent to log in, its
/// refresh token is refused and introspects inactive, its access token too, the app it
/// signed in to is told, and one audit event names the device. This browser carries on.
#[tokio::test]
async fn ending_the_other_device_signs_it_out_and_revokes_its_tokens() {
    for engine in engines() {
        let world = two_browsers(TestServer::start(engine).await).await;
        let server = &world.server;
        let shown = account_page(server, &world.firefox).await;
        let safari_id = device_id_of(device_entry(&shown, SAFARI));
        let firefox_id = device_id_of(device_entry(&shown, FIREFOX));

        let fields = [("device", safari_id.as_str())];
        let response = submit_action(server, &world.firefox, &shown, "end_device", &fields).await;
        assert_eq!(notice_of(server, &response), "device_ended");
        let after = page(world.firefox.follow(&server.issuer, response).await);
        assert!(after.contains("The device was signed out"), "{after}");
        assert_eq!(device_entries(&after).len(), 1);
        device_entry(&after, FIREFOX);

        assert!(!signed_in(server, &world.safari).await);
        let refused = server
            .refresh(&world.client, &world.on_safari.refresh_token, None)
            .await;
        assert_token_error(refused, 400, "invalid_grant").await;
        for token in [
            &world.on_safari.refresh_token,
            &world.on_safari.access_token,
        ] {
            let introspected = server.introspect(&world.client, token).await;
            assert_eq!(introspected["active"], false);
        }
        assert_eq!(queued_logouts(server, &world.on_safari.sid).await, 1);

        // Nothing of this browser's was touched.
        assert!(signed_in(server, &world.firefox).await);
        let kept = server
            .refresh(&world.client, &world.on_firefox.refresh_token, None)
            .await;
        assert_eq!(kept.status(), 200);
        assert_eq!(queued_logouts(server, &world.on_firefox.sid).await, 0);

        let ended = events_of(server, "account.device.end").await;
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].outcome, "success");
        assert_eq!(ended[0].user_id.as_deref(), Some(world.alice.as_str()));
        assert_eq!(detail(&ended[0])["device_id"], safari_id.as_str());
        assert_eq!(detail(&ended[0])["ended_sessions"], 1);
        assert_eq!(detail(&ended[0])["revoked_refresh_tokens"], 1);
        // Made from Firefox, in Firefox's session.
        assert_eq!(ended[0].device_id.as_deref(), Some(firefox_id.as_str()));
        assert_eq!(
            ended[0].session_id.as_deref(),
            Some(world.on_firefox.sid.as_str())
        );
        let store = server.provider.store();
        assert!(!store.device_known(&world.alice, &safari_id).await.unwrap());
        world.server.stop().await;
    }
}

/// Ending the browser's own device signs it out: the session cookie is cleared and the page
/// says so; the other device keeps its session.
#[tokio::test]
async fn ending_this_device_signs_this_browser_out() {
    for engine in engines() {
        let world = two_browsers(TestServer::start(engine).await).await;
        let server = &world.server;
        let shown = account_page(server, &world.firefox).await;
        let own = device_id_of(device_entry(&shown, FIREFOX));

        let fields = [("device", own.as_str())];
        let response = submit_action(server, &world.firefox, &shown, "end_device", &fields).await;
        assert_eq!(response.status(), 200);
        let cleared = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("tessera-session=;"));
        assert!(cleared, "the session cookie is cleared");
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("You are signed out"));

        assert!(!signed_in(server, &world.firefox).await);
        assert!(signed_in(server, &world.safari).await);
        let refused = server
            .refresh(&world.client, &world.on_firefox.refresh_token, None)
            .await;
        assert_token_error(refused, 400, "invalid_grant").await;
        world.server.stop().await;
    }
}

/// Ending one session of another device ends it and what it issued; the device stays
/// listed, with no session open.
#[tokio::test]
async fn ending_one_session_leaves_its_device_listed() {
    for engine in engines() {
        let world = two_browsers(TestServer::start(engine).await).await;
        let server = &world.server;
        let shown = account_page(server, &world.firefox).await;

        let fields = [("sid", world.on_safari.sid.as_str())];
        let response = submit_action(server, &world.firefox, &shown, "end_session", &fields).await;
        assert_eq!(notice_of(server, &response), "session_ended");
        let after = page_of(world.firefox.get(&location(&response).unwrap()).await).await;
        assert!(device_entry(&after, SAFARI).contains("No session open on it now."));

        assert!(!signed_in(server, &world.safari).await);
        let refused = server
            .refresh(&world.client, &world.on_safari.refresh_token, None)
            .await;
        assert_token_error(refused, 400, "invalid_grant").await;
        assert_eq!(queued_logouts(server, &world.on_safari.sid).await, 1);
        let ended = events_of(server, "account.session.end").await;
        assert_eq!(detail(&ended[0])["sid"], world.on_safari.sid.as_str());
        world.server.stop().await;
    }
}

/// An end without the page's CSRF token, or with one made for another session, is refused
/// and audited; the device keeps its session.
#[tokio::test]
async fn an_end_without_the_page_s_csrf_token_is_refused() {
    for engine in engines() {
        let world = two_browsers(TestServer::start(engine).await).await;
        let server = &world.server;
        let shown = account_page(server, &world.firefox).await;
        let safari_id = device_id_of(device_entry(&shown, SAFARI));
        let safaris_csrf = hidden_field(&account_page(server, &world.safari).await, "csrf");

        for csrf in [None, Some("forged"), safaris_csrf.as_deref()] {
            let mut form = vec![("action", "end_device"), ("device", safari_id.as_str())];
            if let Some(csrf) = csrf {
                form.push(("csrf", csrf));
            }
            let response = world
                .firefox
                .post_form(&server.url("/account"), &form)
                .await;
            assert_eq!(response.status(), 400, "{csrf:?}");
            assert_eq!(location(&response), None);
        }

        assert!(signed_in(server, &world.safari).await);
        let refusals = events_of(server, "account.device.end").await;
        assert_eq!(refusals.len(), 3);
        for refusal in &refusals {
            assert_eq!(refusal.outcome, "failure");
            assert_eq!(detail(refusal)["reason"], "csrf");
        }
        world.server.stop().await;
    }
}

/// Ids are per person: another person's device or session, named on this person's page,
/// gets the answer an unknown one gets, and stays as it was.
#[tokio::test]
async fn another_persons_device_is_answered_as_an_unknown_one() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let bob = server.create_user("bob").await;
        let client = app(&server).await;
        let alices = Browser::with_user_agent(FIREFOX_LINUX);
        let bobs = Browser::with_user_agent(SAFARI_IOS);
        app_login(&server, &alices, &client, "alice").await;
        let bob_login = app_login(&server, &bobs, &client, "bob").await;
        let bob_device = device_id_of(device_entry(&account_page(&server, &bobs).await, SAFARI));
        let shown = account_page(&server, &alices).await;

        let unknown = "0123456789abcdef0123456789abcdef";
        for device in [bob_device.as_str(), unknown, "not a device id"] {
            let fields = [("device", device)];
            let response = submit_action(&server, &alices, &shown, "end_device", &fields).await;
            assert_eq!(notice_of(&server, &response), "no_such_device", "{device}");
        }
        for sid in [bob_login.sid.as_str(), "no-such-session"] {
            let fields = [("sid", sid)];
            let response = submit_action(&server, &alices, &shown, "end_session", &fields).await;
            assert_eq!(notice_of(&server, &response), "no_such_session", "{sid}");
        }

        assert!(signed_in(&server, &bobs).await);
        let refreshed = server
            .refresh(&client, &bob_login.refresh_token, None)
            .await;
        assert_eq!(refreshed.status(), 200);
        assert_eq!(queued_logouts(&server, &bob_login.sid).await, 0);
        let store = server.provider.store();
        assert!(store.device_known(&bob, &bob_device).await.unwrap());
        server.stop().await;
    }
}

/// Ending a device is a change like the page's others: a session whose sign-in is older
/// than the window signs in again first, and nothing ends meanwhile.
#[tokio::test]
async fn a_stale_session_signs_in_again_before_ending_a_device() {
    for engine in engines() {
        let world = two_browsers(TestServer::start(engine).await).await;
        let server = &world.server;
        let shown = account_page(server, &world.firefox).await;
        let safari_id = device_id_of(device_entry(&shown, SAFARI));
        let window = server.provider.settings().reauthentication_window;
        backdate_sessions(server.provider.store(), &world.alice, window + 1).await;

        let fields = [("device", safari_id.as_str())];
        let response = submit_action(server, &world.firefox, &shown, "end_device", &fields).await;
        assert_sent_to_login(server, &response);
        assert!(signed_in(server, &world.safari).await);
        let events = events_of(server, "account.device.end").await;
        let refused = &events[0];
        assert_eq!(refused.outcome, "failure");
        assert_eq!(detail(refused)["reason"], "stale_authentication");

        // Signing in again, the same form goes through.
        let login = page(world.firefox.follow(&server.issuer, response).await);
        let response = world
            .firefox
            .submit_login(server, &login, "alice", PASSWORD)
            .await;
        let fresh = page(world.firefox.follow(&server.issuer, response).await);
        let response = submit_action(server, &world.firefox, &fresh, "end_device", &fields).await;
        assert_eq!(notice_of(server, &response), "device_ended");
        assert!(!signed_in(server, &world.safari).await);
        world.server.stop().await;
    }
}
