//! The device cookie: set on Tessera's pages, signed, replaced when forged, never on the
//! endpoints apps call; and what a login records about the device it came from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_e2e::{engines, Browser, TestServer};

/// The name on a plain-http loopback issuer, as the kit's servers are.
const DEVICE_COOKIE: &str = "tessera-device";

/// RFC 6265bis §5.5: user agents cap a cookie's lifetime at 400 days, 34 560 000 seconds.
const FOUR_HUNDRED_DAYS: &str = "Max-Age=34560000";

fn device_set_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{DEVICE_COOKIE}=")))
}

#[tokio::test]
async fn the_first_page_sets_a_long_lived_device_cookie_and_later_ones_keep_it() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();

        let first = browser.get(&server.authorize_url(&client, &[])).await;
        let header = device_set_cookie(&first).expect("the first page sets the device cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", FOUR_HUNDRED_DAYS] {
            assert!(header.contains(attribute), "{attribute} missing: {header}");
        }
        let value = browser.cookie(&server, DEVICE_COOKIE).unwrap();

        let second = browser.get(&server.authorize_url(&client, &[])).await;
        assert_eq!(
            device_set_cookie(&second),
            None,
            "a known device is not renamed"
        );
        assert_eq!(browser.cookie(&server, DEVICE_COOKIE).unwrap(), value);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_device_cookie_tessera_did_not_sign_is_replaced() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        // The shape of a real one: 43 base64url characters, a dot, 43 more.
        let forged = format!("{}.{}", "A".repeat(43), "B".repeat(43));
        browser.plant_cookie(&server, DEVICE_COOKIE, &forged);

        let response = browser.get(&server.authorize_url(&client, &[])).await;
        assert!(
            device_set_cookie(&response).is_some(),
            "the forged cookie is replaced"
        );
        assert_ne!(browser.cookie(&server, DEVICE_COOKIE).unwrap(), forged);
        server.stop().await;
    }
}

#[tokio::test]
async fn the_endpoints_apps_call_set_no_device_cookie() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let response = server
            .post_token(None, &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(response.status(), 401);
        assert_eq!(device_set_cookie(&response), None);
        let discovery = Browser::new()
            .get(&server.url("/.well-known/openid-configuration"))
            .await;
        assert_eq!(device_set_cookie(&discovery), None);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_login_records_its_device_and_its_event_names_device_and_session() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, true).await;
        let alice = server.create_user("alice").await;
        let browser = Browser::new();
        browser
            .authorization_code(&server, &server.authorize_url(&client, &[]), "alice")
            .await;

        let store = server.provider.store();
        let devices = store.devices(&alice).await.unwrap();
        assert_eq!(devices.len(), 1);
        let device = &devices[0];
        let cookie = browser.cookie(&server, DEVICE_COOKIE).unwrap();
        assert_eq!(device.device_id.len(), 32);
        assert!(
            !cookie.contains(&device.device_id),
            "the stored id is not the cookie"
        );
        assert_eq!(device.last_ip.as_deref(), Some("127.0.0.1"));

        let events = store.recent_audit_events(50).await.unwrap();
        let login = events
            .iter()
            .find(|e| e.event_type == "login.password" && e.outcome == "success")
            .expect("the login is recorded");
        assert_eq!(login.device_id.as_deref(), Some(device.device_id.as_str()));
        let sids = store.device_sids(&alice, &device.device_id).await.unwrap();
        assert_eq!(sids.len(), 1);
        assert_eq!(login.session_id.as_deref(), Some(sids[0].as_str()));
        for event in &events {
            assert!(!event.detail.contains(&cookie), "{}", event.event_type);
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn one_browser_is_a_device_of_each_person_and_a_second_browser_another() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client(false, true).await;
        let alice = server.create_user("alice").await;
        let bob = server.create_user("bob").await;
        let shared = Browser::new();
        let url = server.authorize_url(&client, &[("prompt", "login")]);
        shared.authorization_code(&server, &url, "alice").await;
        shared.authorization_code(&server, &url, "bob").await;
        let store = server.provider.store();
        assert!(!store.device_known(&alice, "00").await.unwrap());
        let alices = store.devices(&alice).await.unwrap();
        let bobs = store.devices(&bob).await.unwrap();
        assert_eq!(alices[0].device_id, bobs[0].device_id);
        assert!(store
            .device_known(&bob, &alices[0].device_id)
            .await
            .unwrap());

        Browser::new()
            .authorization_code(&server, &url, "alice")
            .await;
        assert_eq!(store.devices(&alice).await.unwrap().len(), 2);
        assert_eq!(store.devices(&bob).await.unwrap().len(), 1);
        server.stop().await;
    }
}
