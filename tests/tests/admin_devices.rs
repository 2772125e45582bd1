//! An admin lists and ends a person's devices (issue 6, "Admins see and end the same through
//! the admin API"): `/admin/v1/users/{id}/devices`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use tessera_e2e::admin::{problem, ALL_ADMIN_SCOPES};
use tessera_e2e::devices::{app, app_login, queued_logouts, AppLogin, FIREFOX_LINUX, SAFARI_IOS};
use tessera_e2e::expect::assert_token_error;
use tessera_e2e::{engines, Browser, TestClient, TestServer};
use tessera_store::testing::tamper;

const READ: &str = "admin:users:read";
const READ_WRITE: &str = "admin:users:read admin:users:write";

/// A person signed in to one app from a Firefox on Linux and from a Safari on an iPhone.
struct Signed {
    user_id: String,
    client: TestClient,
    on_firefox: AppLogin,
    on_safari: AppLogin,
}

async fn on_two_browsers(server: &TestServer, username: &str) -> Signed {
    let user_id = server.create_user(username).await;
    let client = app(server).await;
    let firefox = Browser::with_user_agent(FIREFOX_LINUX);
    let safari = Browser::with_user_agent(SAFARI_IOS);
    let on_firefox = app_login(server, &firefox, &client, username).await;
    let on_safari = app_login(server, &safari, &client, username).await;
    Signed {
        user_id,
        client,
        on_firefox,
        on_safari,
    }
}

async fn call(server: &TestServer, method: Method, token: &str, path: &str) -> reqwest::Response {
    server.admin(method, Some(token), path, None).await
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn devices(server: &TestServer, token: &str, user_id: &str) -> Vec<Value> {
    let path = format!("/users/{user_id}/devices");
    let listed = json_of(call(server, Method::GET, token, &path).await).await;
    listed["items"].as_array().unwrap().clone()
}

/// The device whose browser is `browser`.
fn by_browser<'a>(items: &'a [Value], browser: &str) -> &'a Value {
    items
        .iter()
        .find(|d| d["browser"] == browser)
        .unwrap_or_else(|| panic!("no {browser} in {items:?}"))
}

/// The audit trail holds `action` with `outcome` on `target`.
async fn assert_audited(server: &TestServer, action: &str, outcome: &str, target: Value) {
    let events = server
        .provider
        .store()
        .recent_audit_events(50)
        .await
        .unwrap();
    let found = events.iter().any(|e| {
        let detail: Value = serde_json::from_str(&e.detail).unwrap();
        e.event_type == action && e.outcome == outcome && detail["target"] == target
    });
    assert!(found, "no {outcome} {action} on {target}");
}

/// Each device with what its user agent says it runs, its address and its live session;
/// the session listing names the device each session came from.
#[tokio::test]
async fn devices_are_listed_with_what_they_run_and_their_sessions() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let signed = on_two_browsers(&server, "alice").await;
        let alice = &signed.user_id;
        let (_, token) = server.service_token(READ).await;

        let items = devices(&server, &token, alice).await;
        assert_eq!(items.len(), 2, "{items:?}");
        let firefox = by_browser(&items, "Firefox 126");
        assert_eq!(firefox["os"], "Linux");
        assert_eq!(firefox["user_agent"], FIREFOX_LINUX);
        let safari = by_browser(&items, "Safari 17");
        assert_eq!(safari["os"], "iOS 17.4");
        assert_eq!(safari["user_agent"], SAFARI_IOS);
        for (device, login) in [(firefox, &signed.on_firefox), (safari, &signed.on_safari)] {
            assert_eq!(device["device_id"].as_str().unwrap().len(), 32);
            assert_eq!(device["last_ip"], "127.0.0.1");
            assert_eq!(device["location"], Value::Null);
            assert!(device["last_seen_at"].as_i64() >= device["first_seen_at"].as_i64());
            let sessions = device["sessions"].as_array().unwrap();
            assert_eq!(sessions.len(), 1, "{device}");
            assert_eq!(sessions[0]["sid"], login.sid.as_str());
            assert_eq!(sessions[0]["amr"], json!(["pwd"]));
        }
        assert_audited(
            &server,
            "admin.user.devices.list",
            "success",
            json!({ "user": alice }),
        )
        .await;

        let path = format!("/users/{alice}/sessions");
        let sessions = json_of(call(&server, Method::GET, &token, &path).await).await;
        let safari_session = sessions["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sid"] == signed.on_safari.sid.as_str())
            .unwrap();
        assert_eq!(safari_session["device_id"], safari["device_id"]);
        server.stop().await;
    }
}

/// Pages of `limit` devices follow each other by cursor until `next_cursor` is null. Three
/// devices last seen in the same second are ordered by id alone: the walk meets each once,
/// in ascending id order, each with its session; a page that holds exactly the rest has no
/// `next_cursor`.
#[tokio::test]
async fn devices_come_in_pages_linked_by_a_cursor() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let signed = on_two_browsers(&server, "alice").await;
        let alice = &signed.user_id;
        app_login(&server, &Browser::new(), &signed.client, "alice").await;
        tamper(
            server.provider.store(),
            "UPDATE devices SET last_seen_at = 1800000000",
        )
        .await;
        let (_, token) = server.service_token(READ).await;

        let mut walked: Vec<Value> = Vec::new();
        let mut path = format!("/users/{alice}/devices?limit=2");
        let mut pages = 0;
        loop {
            let listed = json_of(call(&server, Method::GET, &token, &path).await).await;
            pages += 1;
            walked.extend(listed["items"].as_array().unwrap().iter().cloned());
            match listed["next_cursor"].as_str() {
                Some(cursor) => path = format!("/users/{alice}/devices?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(pages, 2);
        let ids: Vec<&str> = walked
            .iter()
            .map(|d| d["device_id"].as_str().unwrap())
            .collect();
        let mut ascending = ids.clone();
        ascending.sort_unstable();
        ascending.dedup();
        assert_eq!(ids, ascending, "each device once, by id");
        assert_eq!(ids.len(), 3);
        for device in &walked {
            assert_eq!(device["last_seen_at"], 1_800_000_000);
            assert_eq!(device["sessions"].as_array().unwrap().len(), 1, "{device}");
        }

        let exact = format!("/users/{alice}/devices?limit=3");
        let whole = json_of(call(&server, Method::GET, &token, &exact).await).await;
        assert_eq!(whole["items"].as_array().unwrap().len(), 3);
        assert_eq!(whole["next_cursor"], Value::Null);
        server.stop().await;
    }
}

/// A wrong `limit`, a cursor this list never gave out, a parameter given twice or one it does
/// not take is a 400 problem naming it, audited; never a 500.
#[tokio::test]
async fn a_wrong_list_query_is_a_400_naming_it() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let signed = on_two_browsers(&server, "alice").await;
        let alice = &signed.user_id;
        let (_, token) = server.service_token(READ).await;
        // Base64url (RFC 4648 §5) of a time and an id, as cursors are, but naming no device,
        // or with a time past i64.
        let not_a_device = URL_SAFE_NO_PAD.encode("1.not-a-device");
        let overflow =
            URL_SAFE_NO_PAD.encode("99999999999999999999.0123456789abcdef0123456789abcdef");
        let cases: [(String, &[&str]); 8] = [
            ("limit=0&cursor=forged".into(), &["limit", "cursor"]),
            ("limit=201".into(), &["limit"]),
            ("limit=ten".into(), &["limit"]),
            ("limit=1&colour=red&colour=blue".into(), &["colour"]),
            ("limit=1&limit=2".into(), &["query"]),
            (format!("cursor={not_a_device}"), &["cursor"]),
            (format!("cursor={overflow}"), &["cursor"]),
            ("cursor=%00".into(), &["cursor"]),
        ];
        for (query, expected) in cases {
            let path = format!("/users/{alice}/devices?{query}");
            let (status, body) = problem(call(&server, Method::GET, &token, &path).await).await;
            assert_eq!(status, 400, "{query}");
            assert_eq!(body["type"], "urn:tessera:problem:validation", "{query}");
            let fields: Vec<&str> = body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert_eq!(fields, expected, "{query}");
        }
        let target = json!({ "user": alice });
        assert_audited(&server, "admin.user.devices.list", "failure", target).await;
        server.stop().await;
    }
}

/// Ending a device ends its session, revokes the refresh token issued through it and that
/// token's access token, notifies the app, is audited, and leaves the other device alone.
#[tokio::test]
async fn ending_a_device_revokes_what_it_signed_in_to() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let signed = on_two_browsers(&server, "alice").await;
        let alice = &signed.user_id;
        let (_, token) = server.service_token(READ_WRITE).await;
        let items = devices(&server, &token, alice).await;
        let safari_id = by_browser(&items, "Safari 17")["device_id"]
            .as_str()
            .unwrap()
            .to_string();

        let path = format!("/users/{alice}/devices/{safari_id}");
        let ended = call(&server, Method::DELETE, &token, &path).await;
        assert_eq!(ended.status(), 204);
        let target = json!({ "user": alice, "device": safari_id });
        assert_audited(&server, "admin.user.device.delete", "success", target).await;

        let (client, safari) = (&signed.client, &signed.on_safari);
        let refused = server.refresh(client, &safari.refresh_token, None).await;
        assert_token_error(refused, 400, "invalid_grant").await;
        for token in [&safari.refresh_token, &safari.access_token] {
            assert_eq!(server.introspect(client, token).await["active"], false);
        }
        assert_eq!(queued_logouts(&server, &safari.sid).await, 1);
        assert_eq!(queued_logouts(&server, &signed.on_firefox.sid).await, 0);
        let kept = server
            .refresh(client, &signed.on_firefox.refresh_token, None)
            .await;
        assert_eq!(kept.status(), 200);

        let left = devices(&server, &token, alice).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["browser"], "Firefox 126");
        let (status, body) = problem(call(&server, Method::DELETE, &token, &path).await).await;
        assert_eq!(status, 404);
        assert_eq!(body["type"], "urn:tessera:problem:not-found");
        server.stop().await;
    }
}

/// A malformed device id is a 400 naming it; a well-formed unknown one, and another
/// person's device addressed through this person, are 404, and the latter stays signed in.
#[tokio::test]
async fn malformed_unknown_and_foreign_device_ids() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let bob = on_two_browsers(&server, "bob").await;
        let (_, token) = server.service_token(READ_WRITE).await;
        let bobs = devices(&server, &token, &bob.user_id).await;
        let bob_device = bobs[0]["device_id"].as_str().unwrap();

        for malformed in ["not-a-device", "0123456789ABCDEF0123456789ABCDEF", "abc"] {
            let path = format!("/users/{alice}/devices/{malformed}");
            let (status, body) = problem(call(&server, Method::DELETE, &token, &path).await).await;
            assert_eq!(status, 400, "{malformed}");
            assert_eq!(body["errors"][0]["field"], "device_id", "{body}");
        }
        for unknown in ["0123456789abcdef0123456789abcdef", bob_device] {
            let path = format!("/users/{alice}/devices/{unknown}");
            let (status, _) = problem(call(&server, Method::DELETE, &token, &path).await).await;
            assert_eq!(status, 404, "{unknown}");
        }
        let kept = server
            .refresh(&bob.client, &bob.on_firefox.refresh_token, None)
            .await;
        assert_eq!(kept.status(), 200);
        assert_eq!(devices(&server, &token, &bob.user_id).await.len(), 2);
        server.stop().await;
    }
}

/// 401 without a token, 403 without the endpoint's scope (RFC 6750 §3.1
/// `insufficient_scope`), 404 for an unknown person; the refusals are audited.
#[tokio::test]
async fn each_endpoint_demands_its_scope() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let signed = on_two_browsers(&server, "alice").await;
        let alice = &signed.user_id;
        let (_, read_only) = server.service_token(READ).await;
        let (_, audit_only) = server.service_token("admin:audit:read").await;
        let (_, write) = server.service_token(READ_WRITE).await;
        let device = devices(&server, &read_only, alice).await[0]["device_id"]
            .as_str()
            .unwrap()
            .to_string();

        let endpoints = [
            (Method::GET, "devices".to_string(), READ, &audit_only),
            (
                Method::DELETE,
                format!("devices/{device}"),
                "admin:users:write",
                &read_only,
            ),
        ];
        for (method, part, scope, lacking) in endpoints {
            let path = format!("/users/{alice}/{part}");
            let (status, _) = problem(server.admin(method.clone(), None, &path, None).await).await;
            assert_eq!(status, 401, "{part}");

            let response = call(&server, method.clone(), lacking, &path).await;
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                challenge.contains(&format!("scope=\"{scope}\"")),
                "{challenge}"
            );
            let (status, body) = problem(response).await;
            assert_eq!(status, 403, "{part}");
            assert_eq!(body["type"], "urn:tessera:problem:insufficient-scope");

            let unknown = format!("/users/nobody/{part}");
            let (status, _) = problem(call(&server, method, &write, &unknown).await).await;
            assert_eq!(status, 404, "{part}");
        }
        let target = json!({ "user": alice, "device": device });
        assert_audited(&server, "admin.user.device.delete", "failure", target).await;
        assert_eq!(devices(&server, &read_only, alice).await.len(), 2);
        server.stop().await;
    }
}

/// Ending a device of someone holding admin rights the caller lacks is escalation (403),
/// audited, and ends nothing; an admin holding every right may.
#[tokio::test]
async fn a_lesser_admin_cannot_end_a_greater_ones_device() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let scope = format!("openid {ALL_ADMIN_SCOPES}");
        let root = server.admin_person("root", &["admin"], &scope).await;
        let (_, lesser) = server.service_token(READ_WRITE).await;
        let listed = devices(&server, &lesser, &root.user_id).await;
        let device = listed[0]["device_id"].as_str().unwrap().to_string();
        let path = format!("/users/{}/devices/{device}", root.user_id);

        let (status, body) = problem(call(&server, Method::DELETE, &lesser, &path).await).await;
        assert_eq!(status, 403);
        assert_eq!(body["type"], "urn:tessera:problem:escalation");
        let target = json!({ "user": root.user_id, "device": device });
        assert_audited(&server, "admin.user.device.delete", "failure", target).await;
        let me = server
            .admin(Method::GET, Some(&root.token), "/me", None)
            .await;
        assert_eq!(me.status(), 200, "root's token still works");
        assert_eq!(devices(&server, &lesser, &root.user_id).await.len(), 1);

        let (_, all) = server.service_token(ALL_ADMIN_SCOPES).await;
        assert_eq!(
            call(&server, Method::DELETE, &all, &path).await.status(),
            204
        );
        let me = server
            .admin(Method::GET, Some(&root.token), "/me", None)
            .await;
        assert_eq!(me.status(), 401, "root's token was revoked with the device");
        server.stop().await;
    }
}
