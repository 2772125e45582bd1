//! Logout, end to end: RP-Initiated Logout 1.0 at `/logout`, and Back-Channel Logout 1.0
//! notifications delivered to a relying party's receiver on a loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::JwkSet;
use josekit::jws::RS256;
use josekit::jwt;
use serde_json::{json, Value};
use tessera_core::accounts::{self, NewClientRequest};
use tessera_core::unix_now;
use tessera_e2e::{engines, hidden_field, location, query_param, Browser, TestClient, TestServer};
use tessera_e2e::{REDIRECT_URI, STATE};
use tessera_server::ServerOptions;

const AFTER_LOGOUT: &str = "http://127.0.0.1:9/signed-out";

async fn register(server: &TestServer, backchannel_logout_uri: Option<&str>) -> TestClient {
    let uris = vec![REDIRECT_URI.to_string()];
    let logout_uris = vec![AFTER_LOGOUT.to_string()];
    let request = NewClientRequest {
        name: "Logout App",
        redirect_uris: &uris,
        first_party: true,
        id_token_alg: "RS256",
        scope: "openid profile email",
        grant_types: &["authorization_code".to_string()],
        post_logout_redirect_uris: &logout_uris,
        backchannel_logout_uri,
        ..NewClientRequest::default()
    };
    let created = accounts::create_client(server.provider.store(), request, unix_now())
        .await
        .unwrap();
    TestClient {
        id: created.client_id,
        secret: created.client_secret.map(|s| s.expose().to_string()),
        redirect_uri: REDIRECT_URI.to_string(),
    }
}

/// Signs alice in for `client` and returns the ID token the client receives.
async fn id_token(server: &TestServer, client: &TestClient, browser: &Browser) -> String {
    let code = browser
        .authorization_code(server, &server.authorize_url(client, &[]), "alice")
        .await;
    let response = server.redeem(client, &code, None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["id_token"].as_str().unwrap().to_string()
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// OIDC Core §3.1.2.6: with no session, prompt=none answers login_required.
async fn prompt_none_error(server: &TestServer, client: &TestClient, browser: &Browser) -> String {
    let url = server.authorize_url(client, &[("prompt", "none")]);
    let response = browser.get(&url).await;
    let to = location(&response).expect("a redirect to the client");
    query_param(&to, "error").unwrap_or_else(|| "none".into())
}

#[tokio::test]
async fn logout_with_a_hint_redirects_with_state_and_ends_the_session() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = register(&server, None).await;
        let browser = Browser::new();
        let hint = id_token(&server, &client, &browser).await;
        assert_eq!(prompt_none_error(&server, &client, &browser).await, "none");

        let url = server.url("/logout");
        let response = browser
            .http
            .get(&url)
            .query(&[
                ("id_token_hint", hint.as_str()),
                ("post_logout_redirect_uri", AFTER_LOGOUT),
                ("state", STATE),
            ])
            .send()
            .await
            .unwrap();

        // RP-Initiated Logout §3: back to the registered URI, with state.
        assert_eq!(response.status(), 303);
        let to = location(&response).unwrap();
        assert_eq!(to, format!("{AFTER_LOGOUT}?state={STATE}"));
        assert_eq!(browser.cookie(&server, "tessera-session"), None);

        // The session is gone on the server too, not only in this browser.
        assert_eq!(
            prompt_none_error(&server, &client, &browser).await,
            "login_required"
        );
        // The logout, then the refused prompt=none request above.
        let events = server
            .provider
            .store()
            .recent_audit_events(2)
            .await
            .unwrap();
        assert_eq!(events[1].event_type, "logout");
        assert_eq!(
            (events[0].event_type.as_str(), events[0].outcome.as_str()),
            ("authorization.request", "failure")
        );
        server.stop().await;
    }
}

/// RP-Initiated Logout §3: an unregistered URI never receives the browser.
#[tokio::test]
async fn an_unregistered_post_logout_redirect_uri_is_never_followed() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = register(&server, None).await;
        let browser = Browser::new();
        let hint = id_token(&server, &client, &browser).await;

        for uri in ["https://evil.example/", "http://127.0.0.1:9/signed-out/"] {
            let response = browser
                .http
                .get(server.url("/logout"))
                .query(&[
                    ("id_token_hint", hint.as_str()),
                    ("post_logout_redirect_uri", uri),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{uri}");
            assert!(location(&response).is_none(), "{uri}");
            assert!(response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"));
        }

        // Nothing was logged out by the refused requests.
        assert_eq!(prompt_none_error(&server, &client, &browser).await, "none");
        server.stop().await;
    }
}

/// RP-Initiated Logout §2: client_id, when sent with a hint, must be the hint's audience.
#[tokio::test]
async fn a_client_id_other_than_the_hints_audience_is_refused() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = register(&server, None).await;
        let other = register(&server, None).await;
        let browser = Browser::new();
        let hint = id_token(&server, &client, &browser).await;

        let response = browser
            .http
            .get(server.url("/logout"))
            .query(&[("id_token_hint", hint.as_str()), ("client_id", &other.id)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert!(location(&response).is_none());
        assert_eq!(prompt_none_error(&server, &client, &browser).await, "none");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_forged_hint_is_refused() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = register(&server, None).await;
        let browser = Browser::new();
        let hint = id_token(&server, &client, &browser).await;
        let mut parts: Vec<&str> = hint.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD
            .encode(json!({ "iss": server.issuer, "aud": client.id, "sub": "x" }).to_string());
        parts[1] = &forged_payload;
        let forged = parts.join(".");

        let response = browser
            .http
            .get(server.url("/logout"))
            .query(&[
                ("id_token_hint", forged.as_str()),
                ("post_logout_redirect_uri", AFTER_LOGOUT),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert!(location(&response).is_none());
        server.stop().await;
    }
}

/// RP-Initiated Logout §2: without a hint the OP asks; a cross-site request cannot answer.
#[tokio::test]
async fn logout_without_a_hint_asks_for_confirmation_with_a_csrf_token() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = register(&server, None).await;
        let browser = Browser::new();
        id_token(&server, &client, &browser).await;

        let page = browser
            .http
            .get(server.url("/logout"))
            .query(&[
                ("client_id", client.id.as_str()),
                ("post_logout_redirect_uri", AFTER_LOGOUT),
                ("state", STATE),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["cache-control"], "no-store");
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let body = page.text().await.unwrap();
        let csrf = hidden_field(&body, "csrf").expect("a CSRF field");
        assert_eq!(prompt_none_error(&server, &client, &browser).await, "none");

        // A forged confirmation (another site cannot know the token) changes nothing.
        let forged = browser
            .post_form(
                &server.url("/logout"),
                &[("csrf", "forged"), ("client_id", &client.id)],
            )
            .await;
        assert_eq!(forged.status(), 200, "asked again");
        assert_eq!(prompt_none_error(&server, &client, &browser).await, "none");

        // The person confirms.
        let confirmed = browser
            .post_form(
                &server.url("/logout"),
                &[
                    ("csrf", &csrf),
                    ("client_id", &client.id),
                    ("post_logout_redirect_uri", AFTER_LOGOUT),
                    ("state", STATE),
                ],
            )
            .await;
        assert_eq!(confirmed.status(), 303);
        assert_eq!(
            location(&confirmed).unwrap(),
            format!("{AFTER_LOGOUT}?state={STATE}")
        );
        assert_eq!(
            prompt_none_error(&server, &client, &browser).await,
            "login_required"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn discovery_advertises_logout() {
    let server = TestServer::start(engines()[0]).await;
    let doc: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["end_session_endpoint"], json!(server.url("/logout")));
    assert_eq!(doc["backchannel_logout_supported"], json!(true));
    assert_eq!(doc["backchannel_logout_session_supported"], json!(true));
    server.stop().await;
}

/// What the relying party's receiver saw: the status it answered, and the token.
type Received = Arc<Mutex<Vec<(u16, String)>>>;

/// A back-channel logout receiver (Back-Channel Logout §2.5) that fails its first request.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(
            move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                let seen = seen.clone();
                async move {
                    let mut seen = seen.lock().unwrap();
                    let status = if seen.is_empty() { 500 } else { 200 };
                    seen.push((
                        status,
                        form.get("logout_token").cloned().unwrap_or_default(),
                    ));
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/backchannel"), received)
}

#[tokio::test]
async fn a_backchannel_logout_is_retried_until_delivered_once() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.danger_allow_private_outbound = true;
            s.logout_retry_base = 1;
        })
        .await;
        let loop_task = tokio::spawn(tessera_core::backchannel::delivery_loop(
            server.provider.clone(),
            Duration::from_millis(200),
        ));
        server.create_user("alice").await;
        let (uri, received) = receiver().await;
        let client = register(&server, Some(&uri)).await;
        let browser = Browser::new();
        let hint = id_token(&server, &client, &browser).await;
        let id_claims = payload(&hint);

        let response = browser
            .http
            .get(server.url("/logout"))
            .query(&[("id_token_hint", hint.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "Tessera's signed-out page");

        // The first attempt fails; the retry, about a second later, succeeds.
        for _ in 0..100 {
            if received.lock().unwrap().len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Long enough for a wrongly repeated delivery to show up.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let seen = received.lock().unwrap().clone();
        let statuses: Vec<u16> = seen.iter().map(|(status, _)| *status).collect();
        assert_eq!(statuses, [500, 200], "one failure, one delivery, no more");

        // Back-Channel Logout §2.6: the receiver validates the token like an ID token.
        let token = &seen[1].1;
        let jwks: Value = reqwest::get(server.url("/jwks"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let jwks = JwkSet::from_bytes(jwks.to_string()).unwrap();
        let header = jwt::decode_header(token).unwrap();
        assert_eq!(header.claim("typ"), Some(&json!("logout+jwt")));
        assert_eq!(header.claim("alg"), Some(&json!("RS256")));
        let kid = header.claim("kid").unwrap().as_str().unwrap();
        let verifier = RS256.verifier_from_jwk(jwks.get(kid)[0]).unwrap();
        let (claims, _) = jwt::decode_with_verifier(token, &verifier).unwrap();
        let claims = Value::Object(claims.claims_set().clone());

        // §2.4: the claims a logout token carries, and no nonce.
        let now = unix_now();
        assert_eq!(claims["iss"], json!(server.issuer));
        assert_eq!(claims["aud"], json!(client.id));
        assert_eq!(claims["sub"], id_claims["sub"]);
        assert_eq!(claims["sid"], id_claims["sid"]);
        assert!(claims["sid"].is_string());
        assert!(claims["iat"].as_i64().unwrap() <= now);
        assert!(claims["exp"].as_i64().unwrap() > now);
        assert!(!claims["jti"].as_str().unwrap().is_empty());
        assert_eq!(
            claims["events"],
            json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
        );
        assert!(claims.get("nonce").is_none());

        // Both attempts carried the same jti, so a receiver can drop a repeat.
        assert_eq!(payload(&seen[0].1)["jti"], claims["jti"]);

        loop_task.abort();
        server.stop().await;
    }
}

/// What a receiver saw: when each token arrived, the time then, and the token.
type Arrivals = Arc<Mutex<Vec<(std::time::Instant, i64, String)>>>;

/// A receiver that answers 200 after `delay`, recording each token as it arrives.
async fn timed_receiver(delay: Duration) -> (String, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(
            move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                let seen = seen.clone();
                async move {
                    let token = form.get("logout_token").cloned().unwrap_or_default();
                    seen.lock()
                        .unwrap()
                        .push((std::time::Instant::now(), unix_now(), token));
                    tokio::time::sleep(delay).await;
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/backchannel"), arrivals)
}

/// Signs alice in to `client` in a browser of its own, then logs that session out, which
/// queues one notification for the client.
async fn sign_in_and_out(server: &TestServer, client: &TestClient) {
    let browser = Browser::new();
    let hint = id_token(server, client, &browser).await;
    let response = browser
        .http
        .get(server.url("/logout"))
        .query(&[("id_token_hint", hint.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// A relying party that never answers delays no other: the notifications of a pass are
/// posted concurrently, and each token is signed when it is posted, so it arrives unexpired
/// (Back-Channel Logout §2.6 step 5).
#[tokio::test]
async fn a_hanging_receiver_does_not_delay_the_others() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.danger_allow_private_outbound = true;
        })
        .await;
        server.create_user("alice").await;
        let (hanging_uri, hanging) = timed_receiver(Duration::from_secs(30)).await;
        let (fast_uri, fast) = timed_receiver(Duration::ZERO).await;
        let hanging_client = register(&server, Some(&hanging_uri)).await;
        let fast_client = register(&server, Some(&fast_uri)).await;

        // Queued a second apart, so that the hanging receiver's notification comes first.
        sign_in_and_out(&server, &hanging_client).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        sign_in_and_out(&server, &fast_client).await;

        let started = std::time::Instant::now();
        let provider = server.provider.clone();
        let pass =
            tokio::spawn(async move { provider.deliver_logout_notifications(unix_now()).await });

        for _ in 0..40 {
            if !fast.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (arrived, arrived_at, token) = fast.lock().unwrap().first().cloned().unwrap();
        assert!(
            arrived - started < Duration::from_secs(2),
            "the fast receiver waited {:?}",
            arrived - started
        );
        assert!(payload(&token)["exp"].as_i64().unwrap() > arrived_at);

        assert_eq!(
            pass.await.unwrap().unwrap(),
            1,
            "only the fast one is delivered"
        );
        assert_eq!(hanging.lock().unwrap().len(), 1);
        server.stop().await;
    }
}
