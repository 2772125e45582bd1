//! An admin lists and ends what gives a person access (issue 5, "list and remove factors,
//! list and revoke sessions and refresh tokens"): `/admin/v1/users/{id}/factors`,
//! `/sessions` and `/refresh-tokens`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{json, Value};
use tessera_core::unix_now;
use tessera_e2e::admin::problem;
use tessera_e2e::devices;
use tessera_e2e::{engines, Browser, TestClient, TestServer};
use tessera_store::NewWebauthnCredential;

const READ: &str = "admin:users:read";
const READ_WRITE: &str = "admin:users:read admin:users:write";

/// An app that asks for refresh tokens and takes back-channel logout, and what a person's
/// sign-in to it gave: the session's `sid` and the tokens.
struct AppLogin {
    client: TestClient,
    sid: String,
    access_token: String,
    refresh_token: String,
}

/// `username` signs in to a new app of the kit's ([`devices::app`]) in a browser of their own.
async fn app_login(server: &TestServer, username: &str) -> AppLogin {
    let client = devices::app(server).await;
    let login = devices::app_login(server, &Browser::new(), &client, username).await;
    AppLogin {
        client,
        sid: login.sid,
        access_token: login.access_token,
        refresh_token: login.refresh_token,
    }
}

/// Registers a WebAuthn key for `user_id` straight in the store: listing and removing keys
/// reads nothing of the public key.
async fn add_key(server: &TestServer, user_id: &str, credential_id: &[u8], name: &str) {
    let mut tx = server.provider.store().begin().await.unwrap();
    let key = NewWebauthnCredential {
        credential_id,
        user_id,
        name,
        passkey: "{}",
        sign_count: 0,
        backup_eligible: true,
        backed_up: false,
    };
    tx.insert_webauthn_credential(&key, unix_now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn call(server: &TestServer, method: Method, token: &str, path: &str) -> reqwest::Response {
    server.admin(method, Some(token), path, None).await
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The audit trail holds `action` by `admin` on `target` with `outcome`.
async fn assert_audited(
    server: &TestServer,
    action: &str,
    outcome: &str,
    admin: &str,
    target: Value,
) {
    let events = server
        .provider
        .store()
        .recent_audit_events(50)
        .await
        .unwrap();
    let found = events.iter().any(|e| {
        let detail: Value = serde_json::from_str(&e.detail).unwrap();
        e.event_type == action
            && e.outcome == outcome
            && detail["admin"] == admin
            && detail["target"] == target
    });
    assert!(found, "no {outcome} {action} by {admin} on {target}");
}

/// Whether a refresh token can still be redeemed.
async fn refreshes(server: &TestServer, login: &AppLogin) -> bool {
    let response = server
        .refresh(&login.client, &login.refresh_token, None)
        .await;
    response.status() == 200
}

/// The factors are listed by the ids that remove them; removing the authenticator app
/// keeps the recovery codes while a key is left, removing the last key takes them too.
#[tokio::test]
async fn factors_are_listed_and_the_last_one_takes_the_recovery_codes() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        server.enrol_totp("alice").await;
        add_key(&server, &alice, &[1, 2, 3], "Desk key").await;
        let (client, token) = server.service_token(READ_WRITE).await;
        let admin = format!("client:{}", client.id);
        let path = format!("/users/{alice}/factors");

        let listed = json_of(call(&server, Method::GET, &token, &path).await).await;
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "{listed}");
        assert_eq!(items[0]["kind"], "totp");
        assert_eq!(items[0]["id"], "totp");
        assert!(items[0]["confirmed_at"].is_i64());
        assert_eq!(items[1]["kind"], "recovery_codes");
        assert_eq!(items[1]["id"], "recovery-codes");
        assert_eq!(items[1]["remaining"], 10);
        // "AQID" is the base64url form of the bytes 1, 2, 3 (RFC 4648 §5).
        assert_eq!(items[2]["id"], "webauthn:AQID");
        assert_eq!(items[2]["name"], "Desk key");
        assert_eq!(items[2]["backup_eligible"], true);
        assert_eq!(items[2]["backed_up"], false);
        assert_eq!(items[2]["last_used_at"], Value::Null);
        assert_audited(
            &server,
            "admin.user.factors.list",
            "success",
            &admin,
            json!({ "user": alice }),
        )
        .await;

        let removed = call(&server, Method::DELETE, &token, &format!("{path}/totp")).await;
        assert_eq!(removed.status(), 204);
        let target = json!({ "user": alice, "factor": "totp" });
        assert_audited(
            &server,
            "admin.user.factor.delete",
            "success",
            &admin,
            target,
        )
        .await;
        let listed = json_of(call(&server, Method::GET, &token, &path).await).await;
        let kinds: Vec<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["recovery_codes", "webauthn"]);

        let removed = call(
            &server,
            Method::DELETE,
            &token,
            &format!("{path}/webauthn:AQID"),
        )
        .await;
        assert_eq!(removed.status(), 204);
        let listed = json_of(call(&server, Method::GET, &token, &path).await).await;
        assert_eq!(listed["items"], json!([]));
        server.stop().await;
    }
}

/// Removing a factor ends everything it may have signed in, as the CLI's reset does: the
/// refresh token dies, the access token too, and the app the session served is notified.
#[tokio::test]
async fn removing_a_factor_revokes_tokens_and_announces_the_ended_sessions() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let login = app_login(&server, "alice").await;
        add_key(&server, &alice, &[7; 16], "Phone").await;
        assert_eq!(devices::queued_logouts(&server, &login.sid).await, 0);
        let (_, token) = server.service_token(READ_WRITE).await;

        let key = format!("webauthn:{}", "BwcHBwcHBwcHBwcHBwcHBw");
        let path = format!("/users/{alice}/factors/{key}");
        assert_eq!(
            call(&server, Method::DELETE, &token, &path).await.status(),
            204
        );

        assert!(!refreshes(&server, &login).await);
        let introspected = server.introspect(&login.client, &login.access_token).await;
        assert_eq!(introspected["active"], false);
        assert_eq!(devices::queued_logouts(&server, &login.sid).await, 1);
        let sessions = call(
            &server,
            Method::GET,
            &token,
            &format!("/users/{alice}/sessions"),
        )
        .await;
        assert_eq!(json_of(sessions).await["items"], json!([]));

        // Gone now: a second removal finds nothing.
        let (status, body) = problem(call(&server, Method::DELETE, &token, &path).await).await;
        assert_eq!(status, 404);
        assert_eq!(body["type"], "urn:tessera:problem:not-found");
        server.stop().await;
    }
}

/// A live session is listed by its public `sid` with how and when the person logged in and
/// the apps it served; ending it revokes the refresh token issued through it and queues a
/// back-channel logout for it, and leaves the person's other sessions alone.
#[tokio::test]
async fn a_session_is_listed_and_ended_with_what_it_issued() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let ended = app_login(&server, "alice").await;
        let kept = app_login(&server, "alice").await;
        let (client, token) = server.service_token(READ_WRITE).await;
        let admin = format!("client:{}", client.id);
        let path = format!("/users/{alice}/sessions");

        let listed = json_of(call(&server, Method::GET, &token, &path).await).await;
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{listed}");
        let session = items
            .iter()
            .find(|s| s["sid"] == ended.sid.as_str())
            .unwrap();
        assert_eq!(session["amr"], json!(["pwd"]));
        assert_eq!(session["clients"], json!([ended.client.id]));
        assert!(session["expires_at"].as_i64().unwrap() > session["created_at"].as_i64().unwrap());
        assert_eq!(listed["next_cursor"], Value::Null);
        assert_audited(
            &server,
            "admin.user.sessions.list",
            "success",
            &admin,
            json!({ "user": alice }),
        )
        .await;

        let one = format!("{path}/{}", ended.sid);
        assert_eq!(
            call(&server, Method::DELETE, &token, &one).await.status(),
            204
        );
        let target = json!({ "user": alice, "session": ended.sid });
        assert_audited(
            &server,
            "admin.user.session.delete",
            "success",
            &admin,
            target,
        )
        .await;
        assert!(!refreshes(&server, &ended).await);
        assert_eq!(devices::queued_logouts(&server, &ended.sid).await, 1);
        assert!(refreshes(&server, &kept).await);
        assert_eq!(devices::queued_logouts(&server, &kept.sid).await, 0);

        let listed = json_of(call(&server, Method::GET, &token, &path).await).await;
        let sids: Vec<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, [kept.sid.as_str()]);
        let (status, _) = problem(call(&server, Method::DELETE, &token, &one).await).await;
        assert_eq!(status, 404);
        server.stop().await;
    }
}

/// Lists come in pages of `limit`, linked by an opaque cursor; a wrong `limit` or `cursor`
/// is a 400 naming it.
#[tokio::test]
async fn sessions_and_families_come_in_pages() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        app_login(&server, "alice").await;
        app_login(&server, "alice").await;
        let (_, token) = server.service_token(READ).await;

        for list in ["sessions", "refresh-tokens"] {
            let path = format!("/users/{alice}/{list}");
            let first =
                json_of(call(&server, Method::GET, &token, &format!("{path}?limit=1")).await).await;
            assert_eq!(first["items"].as_array().unwrap().len(), 1, "{first}");
            let cursor = first["next_cursor"].as_str().unwrap();
            let next = format!("{path}?limit=1&cursor={cursor}");
            let second = json_of(call(&server, Method::GET, &token, &next).await).await;
            assert_eq!(second["items"].as_array().unwrap().len(), 1, "{second}");
            assert_ne!(first["items"][0], second["items"][0]);
            assert_eq!(second["next_cursor"], Value::Null);

            let bad = format!("{path}?limit=0&cursor=forged");
            let (status, body) = problem(call(&server, Method::GET, &token, &bad).await).await;
            assert_eq!(status, 400);
            let fields: Vec<&str> = body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert_eq!(fields, ["limit", "cursor"]);
            let (status, _) =
                problem(call(&server, Method::GET, &token, &format!("{path}?limit=201")).await)
                    .await;
            assert_eq!(status, 400);
        }
        server.stop().await;
    }
}

/// A refresh-token family is listed with its client and scope; revoking it kills the
/// refresh token and the access token issued with it (RFC 7009 §2.1).
#[tokio::test]
async fn a_refresh_token_family_is_listed_and_revoked() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let login = app_login(&server, "alice").await;
        let (client, token) = server.service_token(READ_WRITE).await;
        let admin = format!("client:{}", client.id);
        let path = format!("/users/{alice}/refresh-tokens");

        let listed = json_of(call(&server, Method::GET, &token, &path).await).await;
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{listed}");
        assert_eq!(items[0]["client_id"], login.client.id.as_str());
        assert_eq!(items[0]["scope"], "openid");
        assert_eq!(items[0]["last_used_at"], Value::Null);
        let family = items[0]["family_id"].as_str().unwrap().to_string();
        assert_audited(
            &server,
            "admin.user.refresh_tokens.list",
            "success",
            &admin,
            json!({ "user": alice }),
        )
        .await;

        let one = format!("{path}/{family}");
        assert_eq!(
            call(&server, Method::DELETE, &token, &one).await.status(),
            204
        );
        let target = json!({ "user": alice, "refresh_token_family": family });
        assert_audited(
            &server,
            "admin.user.refresh_token.delete",
            "success",
            &admin,
            target,
        )
        .await;
        assert!(!refreshes(&server, &login).await);
        let introspected = server.introspect(&login.client, &login.access_token).await;
        assert_eq!(introspected["active"], false);

        let listed = json_of(call(&server, Method::GET, &token, &path).await).await;
        assert_eq!(listed["items"], json!([]));
        let (status, _) = problem(call(&server, Method::DELETE, &token, &one).await).await;
        assert_eq!(status, 404);
        server.stop().await;
    }
}

/// A session, family or key of another person, addressed through this person's path, is
/// not found, and stays as it was.
#[tokio::test]
async fn another_persons_session_family_or_key_is_not_found_through_this_one() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let bob = server.create_user("bob").await;
        let bobs = app_login(&server, "bob").await;
        add_key(&server, &bob, &[1, 2, 3], "Bob's key").await;
        let (_, token) = server.service_token(READ_WRITE).await;
        let family = json_of(
            call(
                &server,
                Method::GET,
                &token,
                &format!("/users/{bob}/refresh-tokens"),
            )
            .await,
        )
        .await["items"][0]["family_id"]
            .as_str()
            .unwrap()
            .to_string();

        for part in [
            format!("sessions/{}", bobs.sid),
            format!("refresh-tokens/{family}"),
            "factors/webauthn:AQID".to_string(),
        ] {
            let path = format!("/users/{alice}/{part}");
            let (status, body) = problem(call(&server, Method::DELETE, &token, &path).await).await;
            assert_eq!(status, 404, "{part}");
            assert_eq!(body["type"], "urn:tessera:problem:not-found");
        }
        assert!(refreshes(&server, &bobs).await);
        let keys = json_of(
            call(
                &server,
                Method::GET,
                &token,
                &format!("/users/{bob}/factors"),
            )
            .await,
        )
        .await;
        assert_eq!(keys["items"][0]["id"], "webauthn:AQID");
        server.stop().await;
    }
}

/// Every endpoint: 401 without a token, 403 with a token without its scope, 404 for an
/// unknown person (and for a factor id that is none of the three forms); each refusal
/// after the token was checked is audited.
#[tokio::test]
async fn every_endpoint_refuses_401_403_and_404() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let (reader, read_only) = server.service_token(READ).await;
        let (_, audit_only) = server.service_token("admin:audit:read").await;
        let (_, write) = server.service_token(READ_WRITE).await;
        let endpoints = [
            (Method::GET, "factors", READ),
            (Method::DELETE, "factors/totp", "admin:users:write"),
            (Method::GET, "sessions", READ),
            (
                Method::DELETE,
                "sessions/0123456789abcdef",
                "admin:users:write",
            ),
            (Method::GET, "refresh-tokens", READ),
            (
                Method::DELETE,
                "refresh-tokens/not-a-family",
                "admin:users:write",
            ),
        ];
        for (method, part, scope) in endpoints {
            let path = format!("/users/{alice}/{part}");
            let (status, _) = problem(server.admin(method.clone(), None, &path, None).await).await;
            assert_eq!(status, 401, "{part}");

            let lacking = if scope == READ {
                &audit_only
            } else {
                &read_only
            };
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
            let (status, _) = problem(call(&server, method.clone(), &write, &unknown).await).await;
            assert_eq!(status, 404, "{part}");
        }
        let (status, _) = problem(
            call(
                &server,
                Method::DELETE,
                &write,
                &format!("/users/{alice}/factors/password"),
            )
            .await,
        )
        .await;
        assert_eq!(status, 404);
        // A NUL names nothing (and PostgreSQL text could not hold it): 404, not a fault.
        for path in [
            "/users/a%00b/factors".to_string(),
            format!("/users/{alice}/sessions/a%00b"),
        ] {
            let method = if path.ends_with("factors") {
                Method::GET
            } else {
                Method::DELETE
            };
            let (status, _) = problem(call(&server, method, &write, &path).await).await;
            assert_eq!(status, 404, "{path}");
        }
        let target = json!({ "user": alice, "factor": "totp" });
        let admin = format!("client:{}", reader.id);
        assert_audited(
            &server,
            "admin.user.factor.delete",
            "failure",
            &admin,
            target,
        )
        .await;
        server.stop().await;
    }
}
