//! `private_key_jwt` client authentication (OIDC Core §9; RFC 7523 §2.2, §3), end to end.
//!
//! The `openidconnect` crate cannot sign client assertions, so the tests play the client
//! with josekit: they generate its key, register the public half, and sign assertions.
//! An assertion that authenticates moves the request on to the grant, which then fails
//! with `invalid_grant` for a made-up code; one that does not is `invalid_client` (401).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::alg::ec::EcKeyPair;
use josekit::jws::{JwsHeader, ES256, HS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::{json, Value};
use tessera_core::accounts::{self, NewClientRequest};
use tessera_core::unix_now;
use tessera_e2e::expect::*;
use tessera_e2e::{engines, query_param, Browser, TestServer, REDIRECT_URI};
use tessera_server::ServerOptions;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const KID: &str = "client-key-1";

/// The client's side: its key pair.
struct ClientKey {
    pair: EcKeyPair,
}

impl ClientKey {
    fn generate() -> Self {
        Self {
            pair: ES256.generate_key_pair().unwrap(),
        }
    }

    fn public_jwks(&self) -> String {
        let mut jwk = self.pair.to_jwk_public_key();
        jwk.set_key_id(KID);
        jwk.set_algorithm("ES256");
        jwk.set_key_use("sig");
        json!({ "keys": [jwk.as_ref()] }).to_string()
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_with_kid(claims, Some(KID))
    }

    fn sign_with_kid(&self, claims: &Value, kid: Option<&str>) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        if let Some(kid) = kid {
            header.set_key_id(kid);
        }
        let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
        let signer = ES256
            .signer_from_jwk(&self.pair.to_jwk_private_key())
            .unwrap();
        jwt::encode_with_signer(&payload, &header, &signer).unwrap()
    }
}

/// Claims RFC 7523 §3 asks for, addressed to `server`'s token endpoint.
fn claims(server: &TestServer, client_id: &str) -> Value {
    let now = unix_now();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": server.url("/token"),
        "iat": now,
        "exp": now + 60,
        "jti": fresh_jti(),
    })
}

/// A fresh `jti`: 256 random bits.
fn fresh_jti() -> String {
    tessera_core::secret::RandomSecret::generate()
        .expose()
        .to_string()
}

async fn register(server: &TestServer, jwks: Option<&str>, jwks_uri: Option<&str>) -> String {
    let uris = vec![REDIRECT_URI.to_string()];
    let request = NewClientRequest {
        name: "Signed App",
        redirect_uris: &uris,
        first_party: true,
        id_token_alg: "RS256",
        scope: "openid profile email",
        grant_types: &["authorization_code".to_string()],
        jwks,
        jwks_uri,
        ..NewClientRequest::default()
    };
    let created = accounts::create_client(server.provider.store(), request, unix_now())
        .await
        .unwrap();
    assert!(
        created.client_secret.is_none(),
        "no secret for a key client"
    );
    created.client_id
}

/// Posts a code redemption authenticated by `assertion` (RFC 7523 §2.2).
async fn redeem_with(server: &TestServer, assertion: &str, code: &str) -> reqwest::Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    server.post_token(None, &form).await
}

/// The client authenticated, and the made-up code was then refused.
async fn assert_authenticated(response: reqwest::Response) {
    assert_token_error(response, 400, "invalid_grant").await;
}

async fn assert_refused(response: reqwest::Response) {
    assert_token_error(response, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_signed_assertion_redeems_a_code() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let key = ClientKey::generate();
        let client_id = register(&server, Some(&key.public_jwks()), None).await;

        let browser = Browser::new();
        let url = server.authorize_url_with(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
        ]);
        let callback = browser.sign_in(&server, &url, "alice").await;
        let code = query_param(&callback, "code").unwrap();

        let assertion = key.sign(&claims(&server, &client_id));
        let access_token = assert_tokens(redeem_with(&server, &assertion, &code).await).await;
        assert!(!access_token.is_empty());
        server.stop().await;
    }
}

#[tokio::test]
async fn the_issuer_is_an_accepted_audience() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let client_id = register(&server, Some(&key.public_jwks()), None).await;
        let mut claims = claims(&server, &client_id);
        claims["aud"] = json!(server.issuer);
        assert_authenticated(redeem_with(&server, &key.sign(&claims), "made-up").await).await;
        server.stop().await;
    }
}

/// RFC 7523 §3, item 7: a jti is accepted once.
#[tokio::test]
async fn a_replayed_assertion_is_invalid_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let client_id = register(&server, Some(&key.public_jwks()), None).await;
        let assertion = key.sign(&claims(&server, &client_id));

        assert_authenticated(redeem_with(&server, &assertion, "made-up").await).await;
        assert_refused(redeem_with(&server, &assertion, "made-up").await).await;

        let events = server
            .provider
            .store()
            .recent_audit_events(1)
            .await
            .unwrap();
        assert!(
            events[0].detail.contains("assertion_jti_replayed"),
            "{:?}",
            events[0]
        );
        server.stop().await;
    }
}

/// RFC 7523 §3, item 3: the audience is this server, not another endpoint of it.
#[tokio::test]
async fn an_assertion_for_another_audience_is_invalid_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let client_id = register(&server, Some(&key.public_jwks()), None).await;
        let mut claims = claims(&server, &client_id);
        claims["aud"] = json!("https://other.example/token");
        assert_refused(redeem_with(&server, &key.sign(&claims), "made-up").await).await;
        server.stop().await;
    }
}

/// RFC 7523 §3, item 4.
#[tokio::test]
async fn an_expired_assertion_is_invalid_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let client_id = register(&server, Some(&key.public_jwks()), None).await;
        let mut claims = claims(&server, &client_id);
        claims["iat"] = json!(unix_now() - 600);
        claims["exp"] = json!(unix_now() - 300);
        assert_refused(redeem_with(&server, &key.sign(&claims), "made-up").await).await;
        server.stop().await;
    }
}

/// RFC 8725 §3.1: an unsigned assertion proves nothing.
#[tokio::test]
async fn an_unsigned_assertion_is_invalid_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let client_id = register(&server, Some(&key.public_jwks()), None).await;
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(&server, &client_id).to_string());
        let assertion = format!("{header}.{payload}.");
        assert_refused(redeem_with(&server, &assertion, "made-up").await).await;
        server.stop().await;
    }
}

/// RFC 8725 §3.2: an HMAC keyed with the public key could be made by anyone.
#[tokio::test]
async fn an_hmac_assertion_keyed_with_the_public_key_is_invalid_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let jwks = key.public_jwks();
        let client_id = register(&server, Some(&jwks), None).await;

        let mut header = JwsHeader::new();
        header.set_key_id(KID);
        let claims = claims(&server, &client_id);
        let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
        let public = serde_json::to_string(key.pair.to_jwk_public_key().as_ref()).unwrap();
        let signer = HS256.signer_from_bytes(public.as_bytes()).unwrap();
        let assertion = jwt::encode_with_signer(&payload, &header, &signer).unwrap();
        assert_refused(redeem_with(&server, &assertion, "made-up").await).await;
        server.stop().await;
    }
}

/// OIDC Core §9: the key must be one the client registered, whatever the `kid` says.
#[tokio::test]
async fn an_assertion_signed_by_an_unregistered_key_is_invalid_client() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let registered = ClientKey::generate();
        let client_id = register(&server, Some(&registered.public_jwks()), None).await;
        let other = ClientKey::generate();
        let assertion = other.sign(&claims(&server, &client_id));
        assert_refused(redeem_with(&server, &assertion, "made-up").await).await;
        server.stop().await;
    }
}

/// NIST SP 800-63B §5.2.2, as for secrets: assertions signed by a key the client never
/// registered count against the client; past the free failures even its own key's
/// assertion is refused unchecked with 429 and `Retry-After`.
#[tokio::test]
async fn failed_assertions_are_throttled_per_client() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.throttle.client_free_failures = 2;
            s.throttle.first_delay = 600;
        })
        .await;
        let registered = ClientKey::generate();
        let client_id = register(&server, Some(&registered.public_jwks()), None).await;
        let other = ClientKey::generate();
        for _ in 0..2 {
            let forged = other.sign(&claims(&server, &client_id));
            assert_refused(redeem_with(&server, &forged, "made-up").await).await;
        }

        let genuine = registered.sign(&claims(&server, &client_id));
        let response = redeem_with(&server, &genuine, "made-up").await;
        assert!(response.headers().contains_key("retry-after"));
        assert_token_error(response, 429, "invalid_client").await;
        server.stop().await;
    }
}

/// RFC 7523 §3 does not require a `kid`: without one, each registered key is tried, and
/// only a registered key authenticates.
#[tokio::test]
async fn an_assertion_without_a_kid_is_verified_with_the_registered_keys() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let registered = ClientKey::generate();
        let client_id = register(&server, Some(&registered.public_jwks()), None).await;

        let assertion = registered.sign_with_kid(&claims(&server, &client_id), None);
        assert_authenticated(redeem_with(&server, &assertion, "made-up").await).await;

        let other = ClientKey::generate();
        let assertion = other.sign_with_kid(&claims(&server, &client_id), None);
        assert_refused(redeem_with(&server, &assertion, "made-up").await).await;
        server.stop().await;
    }
}

/// RFC 7591 §2: a client registered for private_key_jwt cannot name itself without proof,
/// and a secret client cannot switch to assertions.
#[tokio::test]
async fn a_client_uses_only_its_registered_method() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let client_id = register(&server, Some(&key.public_jwks()), None).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", "made-up"),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", client_id.as_str()),
        ];
        assert_refused(server.post_token(None, &form).await).await;

        let secret_client = server.create_client(false, true).await;
        let assertion = key.sign(&claims(&server, &secret_client.id));
        assert_refused(redeem_with(&server, &assertion, "made-up").await).await;
        server.stop().await;
    }
}

/// Serves `jwks` at `/jwks` on a loopback port, as a client's own server would.
async fn serve_jwks(jwks: String) -> String {
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { ([("content-type", "application/json")], jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/jwks")
}

#[tokio::test]
async fn keys_are_fetched_from_the_jwks_uri_when_private_addresses_are_allowed() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.danger_allow_private_outbound = true;
        })
        .await;
        let key = ClientKey::generate();
        let jwks_uri = serve_jwks(key.public_jwks()).await;
        let client_id = register(&server, None, Some(&jwks_uri)).await;
        let assertion = key.sign(&claims(&server, &client_id));
        assert_authenticated(redeem_with(&server, &assertion, "made-up").await).await;
        server.stop().await;
    }
}

/// A client's server whose `/jwks` fails with 500 after `delay`, counting the requests.
async fn serve_failing_jwks(delay: std::time::Duration) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                axum::http::StatusCode::INTERNAL_SERVER_ERROR
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/jwks"), hits)
}

/// Whoever knows a client id can send assertions: concurrent ones share one fetch of the
/// jwks_uri, and after a failure the uri is left alone for a while.
#[tokio::test]
async fn a_failing_jwks_uri_is_fetched_once_for_many_assertions() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.danger_allow_private_outbound = true;
        })
        .await;
        let key = ClientKey::generate();
        let (jwks_uri, hits) = serve_failing_jwks(std::time::Duration::from_millis(300)).await;
        let client_id = register(&server, None, Some(&jwks_uri)).await;

        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let assertion = key.sign(&claims(&server, &client_id));
            let token_url = server.url("/token");
            tasks.spawn(async move {
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", "made-up"),
                    ("redirect_uri", REDIRECT_URI),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion.as_str()),
                ];
                reqwest::Client::new()
                    .post(token_url)
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
            });
        }
        while let Some(response) = tasks.join_next().await {
            assert_refused(response.unwrap()).await;
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1, "parallel assertions");

        let assertion = key.sign(&claims(&server, &client_id));
        assert_refused(redeem_with(&server, &assertion, "made-up").await).await;
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "an assertion after the failure"
        );

        let events = server
            .provider
            .store()
            .recent_audit_events(1)
            .await
            .unwrap();
        assert!(
            events[0]
                .detail
                .contains("client_keys_unavailable: http_status"),
            "{:?}",
            events[0]
        );
        server.stop().await;
    }
}

/// The outbound guard: by default a jwks_uri on a loopback address is never fetched.
#[tokio::test]
async fn a_jwks_uri_on_a_private_address_is_refused_by_default() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let jwks_uri = serve_jwks(key.public_jwks()).await;
        let client_id = register(&server, None, Some(&jwks_uri)).await;
        let assertion = key.sign(&claims(&server, &client_id));
        assert_refused(redeem_with(&server, &assertion, "made-up").await).await;

        let events = server
            .provider
            .store()
            .recent_audit_events(1)
            .await
            .unwrap();
        assert!(
            events[0]
                .detail
                .contains("client_keys_unavailable: scheme_refused"),
            "{:?}",
            events[0]
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_jwks_with_a_private_key_cannot_be_registered() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let key = ClientKey::generate();
        let private = json!({ "keys": [key.pair.to_jwk_private_key().as_ref()] }).to_string();
        let uris = vec![REDIRECT_URI.to_string()];
        let request = NewClientRequest {
            name: "Careless App",
            redirect_uris: &uris,
            id_token_alg: "RS256",
            scope: "openid",
            grant_types: &["authorization_code".to_string()],
            jwks: Some(&private),
            ..NewClientRequest::default()
        };
        let result = accounts::create_client(server.provider.store(), request, unix_now()).await;
        assert!(result.is_err());
        server.stop().await;
    }
}

/// OIDC Discovery §3: the method and its algorithms are advertised, and nothing more.
#[tokio::test]
async fn discovery_advertises_private_key_jwt() {
    let server = TestServer::start(engines()[0]).await;
    let doc: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );
    assert_eq!(
        doc["token_endpoint_auth_signing_alg_values_supported"],
        json!(["RS256", "ES256", "PS256"])
    );
    server.stop().await;
}
