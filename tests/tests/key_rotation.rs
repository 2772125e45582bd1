//! Signing-key rotation end to end (OIDC Core §10.1.1): a new key is in JWKS before it
//! signs, tokens carry the new `kid` once it does and still validate with the
//! `openidconnect` crate through discovery, a removed key verifies nothing, JWKS and
//! discovery revalidate by ETag (RFC 9110 §13.1.2), and instances sharing one database agree
//! on one key set. Runs on SQLite and, when configured, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    RedirectUrl, TokenResponse,
};
use serde_json::Value;
use tessera_core::keys::{Activation, Alg, KeyEncryptionKey};
use tessera_core::{unix_now, Provider, Settings};
use tessera_e2e::{engines, query_param, Browser, TestClient, TestServer};
use tessera_protocol::types::Issuer;
use tessera_store::testing::TestDatabase;
use tessera_store::Store;

/// The `kid` in a JWS header (RFC 7515 §4.1.4).
fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

async fn jwks_kids(server: &TestServer) -> Vec<String> {
    let jwks: Value = reqwest::get(server.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// Discovers Tessera with the `openidconnect` crate (which fetches JWKS then), signs in,
/// redeems the code and validates the ID token. Returns the raw ID token and access token.
async fn sign_in_with_library(server: &TestServer, client: &TestClient) -> (String, String) {
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = IssuerUrl::new(server.issuer.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .unwrap();
    let oidc = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(client.redirect_uri.clone()).unwrap());

    let (url, _state, nonce) = oidc
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let callback = Browser::new().sign_in(server, url.as_str(), "alice").await;
    let code = query_param(&callback, "code").expect("a code");
    let tokens = oidc
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();

    // The library checks the signature against the JWKS it discovered, then the claims.
    let id_token = tokens.id_token().expect("an ID token");
    id_token.claims(&oidc.id_token_verifier(), &nonce).unwrap();
    let raw = serde_json::to_value(id_token).unwrap();
    (
        raw.as_str().unwrap().to_string(),
        tokens.access_token().secret().clone(),
    )
}

async fn userinfo_status(server: &TestServer, access_token: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

/// OIDC Core §10.1.1: the new key is published ahead; until it activates, the old one
/// keeps signing.
#[tokio::test]
async fn jwks_shows_an_upcoming_key_before_it_signs() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let (before, _) = sign_in_with_library(&server, &client).await;
        let old_kid = kid_of(&before);

        let now = unix_now();
        let provider = &server.provider;
        let upcoming = provider
            .rotate_key(Alg::Rs256, Activation::PublishAhead(3600), now)
            .await
            .unwrap();
        assert_eq!(upcoming.activates_at, now + 3600);
        assert!(provider.reload_keys(now).await.unwrap());

        let kids = jwks_kids(&server).await;
        assert!(kids.contains(&upcoming.kid), "{kids:?}");
        assert!(kids.contains(&old_kid), "{kids:?}");

        let (after, _) = sign_in_with_library(&server, &client).await;
        assert_eq!(kid_of(&after), old_kid);
        server.stop().await;
    }
}

/// After a rotation that activates at once, new ID tokens carry the new `kid` and a
/// library that rediscovers validates them; tokens of the retired key still work.
#[tokio::test]
async fn after_rotation_new_tokens_carry_the_new_kid_and_validate() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let (old_id_token, old_access_token) = sign_in_with_library(&server, &client).await;

        let now = unix_now();
        let provider = &server.provider;
        let rs256 = provider
            .rotate_key(Alg::Rs256, Activation::DangerImmediately, now)
            .await
            .unwrap();
        let es256 = provider
            .rotate_key(Alg::Es256, Activation::DangerImmediately, now)
            .await
            .unwrap();
        assert!(provider.reload_keys(now).await.unwrap());

        let (id_token, access_token) = sign_in_with_library(&server, &client).await;
        assert_eq!(kid_of(&id_token), rs256.kid);
        assert_ne!(kid_of(&id_token), kid_of(&old_id_token));
        assert_eq!(kid_of(&access_token), es256.kid);
        assert_eq!(userinfo_status(&server, &access_token).await.0, 200);

        // The retired key is still published, so what it signed still verifies.
        assert!(jwks_kids(&server).await.contains(&kid_of(&old_id_token)));
        assert_eq!(userinfo_status(&server, &old_access_token).await.0, 200);
        server.stop().await;
    }
}

/// A key past its retention is deleted by the janitor and verifies nothing: its access
/// token fails at userinfo with `invalid_token` (RFC 6750 §3.1).
#[tokio::test]
async fn a_token_signed_by_a_removed_key_fails_at_userinfo() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let (_, access_token) = sign_in_with_library(&server, &client).await;
        let old_kid = kid_of(&access_token);

        let now = unix_now();
        let provider = &server.provider;
        provider
            .rotate_key(Alg::Es256, Activation::DangerImmediately, now)
            .await
            .unwrap();

        // The janitor's round at the moment the retired key's retention has passed.
        let retention = provider.settings().key_retention();
        provider.maintain_keys(now + retention).await.unwrap();
        assert!(!jwks_kids(&server).await.contains(&old_kid));

        let (status, challenge) = userinfo_status(&server, &access_token).await;
        assert_eq!(status, 401);
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        server.stop().await;
    }
}

/// RFC 9110 §8.8.3 and §13.1.2, RFC 9111 §5.2.2.1: JWKS and discovery carry a strong ETag
/// and a short max-age; a matching If-None-Match gets 304 without a body; a rotation
/// changes the JWKS tag.
#[tokio::test]
async fn jwks_and_discovery_revalidate_by_etag() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let http = reqwest::Client::new();

        for path in ["/jwks", "/.well-known/openid-configuration"] {
            let first = http.get(server.url(path)).send().await.unwrap();
            assert_eq!(first.status(), 200);
            assert_eq!(first.headers()["cache-control"], "public, max-age=300");
            let etag = first.headers()["etag"].to_str().unwrap().to_string();
            assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");

            let again = http
                .get(server.url(path))
                .header("if-none-match", &etag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{path}");
            assert_eq!(again.headers()["etag"], etag.as_str());
            assert_eq!(again.headers()["cache-control"], "public, max-age=300");
            assert!(again.bytes().await.unwrap().is_empty());

            let other = http
                .get(server.url(path))
                .header("if-none-match", "\"something-else\"")
                .send()
                .await
                .unwrap();
            assert_eq!(other.status(), 200, "{path}");
        }

        let before = http.get(server.url("/jwks")).send().await.unwrap();
        let old_etag = before.headers()["etag"].to_str().unwrap().to_string();
        let now = unix_now();
        server
            .provider
            .rotate_key(Alg::Es256, Activation::PublishAhead(3600), now)
            .await
            .unwrap();
        server.provider.reload_keys(now).await.unwrap();
        let after = http
            .get(server.url("/jwks"))
            .header("if-none-match", &old_etag)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), 200);
        assert_ne!(after.headers()["etag"], old_etag.as_str());
        server.stop().await;
    }
}

async fn provider_on(store: Store, kek: &str) -> Provider {
    let settings = Settings::new(Issuer::parse("http://127.0.0.1:9").unwrap());
    let kek = KeyEncryptionKey::from_base64(kek).unwrap();
    Provider::new(store, settings, &kek, unix_now())
        .await
        .unwrap()
}

/// Several instances started at once on one empty database end with one key per algorithm
/// and serve the same JWKS; a scheduled rotation due on all of them happens once.
#[tokio::test]
async fn instances_sharing_a_database_converge_on_one_key_set() {
    for engine in engines() {
        let db = TestDatabase::create(engine).await;
        let kek = KeyEncryptionKey::generate_base64();
        // Migrations are applied one pool at a time (SQLite has no migration lock); the
        // providers, which create the keys, start at once.
        let (one, two, three) = (db.store().await, db.store().await, db.store().await);
        let (a, b, c) = tokio::join!(
            provider_on(one, &kek),
            provider_on(two, &kek),
            provider_on(three, &kek)
        );
        assert_eq!(a.store().signing_keys().await.unwrap().len(), 2);
        assert_eq!(a.jwks().etag(), b.jwks().etag());
        assert_eq!(a.jwks().etag(), c.jwks().etag());

        // The schedule comes due on every instance at the same moment.
        let due = unix_now() + a.settings().key_rotation_interval;
        let (ra, rb, rc) = tokio::join!(
            a.maintain_keys(due),
            b.maintain_keys(due),
            c.maintain_keys(due)
        );
        ra.unwrap();
        rb.unwrap();
        rc.unwrap();
        assert_eq!(a.store().signing_keys().await.unwrap().len(), 4);
        for provider in [&a, &b, &c] {
            provider.reload_keys(due).await.unwrap();
        }
        assert_eq!(a.jwks().etag(), b.jwks().etag());
        assert_eq!(a.jwks().etag(), c.jwks().etag());

        for provider in [a, b, c] {
            provider.store().close().await;
        }
        db.drop_database().await;
    }
}
