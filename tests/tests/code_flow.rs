//! The main job, end to end: a standard OIDC library (the `openidconnect` crate) discovers
//! Tessera, sends a person through the hosted login, redeems the code, validates the ID
//! token and reads userinfo. Runs on SQLite and, when configured, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthenticationMethodReference, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse,
};
use tessera_e2e::{engines, query_param, Browser, TestClient, TestServer};

fn http_client() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Runs the whole flow for `client` and checks every step with the library's own
/// validation; returns the access token.
async fn run_flow(
    server: &TestServer,
    client: &TestClient,
    browser: &Browser,
    alg: &str,
) -> String {
    let http = http_client();

    // Discovery: the library insists the issuer matches exactly (OIDC Discovery §4.3).
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

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = oidc
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The person logs in (and consents) on the hosted pages.
    let callback = browser.sign_in(server, auth_url.as_str(), "alice").await;
    assert!(callback.starts_with(&client.redirect_uri), "{callback}");
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(state.secret().as_str())
    );
    // RFC 9207 §2: the authorization response names its issuer.
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(server.issuer.as_str())
    );
    let code = query_param(&callback, "code").expect("a code");

    let tokens = oidc
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();

    // The library verifies signature (via JWKS), iss, aud, exp, iat and nonce.
    let id_token = tokens.id_token().expect("an ID token");
    let id_verifier = oidc.id_token_verifier();
    let claims = id_token.claims(&id_verifier, &nonce).unwrap();
    let signing_alg = serde_json::to_value(id_token.signing_alg().unwrap()).unwrap();
    assert_eq!(signing_alg, alg);
    assert_eq!(claims.issuer().as_str(), server.issuer);
    assert_eq!(claims.audiences().len(), 1);
    assert_eq!(claims.audiences()[0].as_str(), client.id);
    assert_eq!(
        claims.authorized_party().map(|p| p.as_str()),
        Some(client.id.as_str())
    );
    assert_eq!(
        claims.auth_method_refs().unwrap(),
        &vec![AuthenticationMethodReference::new("pwd".into())]
    );
    assert!(claims.auth_time().is_some());

    // OIDC Core §3.1.3.6: at_hash binds the access token to the ID token.
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert_eq!(tokens.token_type().as_ref(), "bearer");

    // Userinfo releases the claims of the granted scopes, for the same subject.
    let userinfo: CoreUserInfoClaims = oidc
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(userinfo.subject(), claims.subject());
    assert_eq!(
        userinfo.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    assert_eq!(userinfo.email_verified(), Some(false));
    assert_eq!(
        userinfo.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    let name = userinfo
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str());
    assert_eq!(name, Some("Alice Liddell"));

    tokens.access_token().secret().clone()
}

#[tokio::test]
async fn confidential_client_completes_the_code_flow() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        run_flow(&server, &client, &browser, "RS256").await;
        server.stop().await;
    }
}

#[tokio::test]
async fn public_client_with_pkce_and_es256_id_tokens_completes_the_code_flow() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_with(true, true, "ES256").await;
        let browser = Browser::new();
        run_flow(&server, &client, &browser, "ES256").await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_second_flow_reuses_the_session_and_the_remembered_consent() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, false).await;
        let browser = Browser::new();
        run_flow(&server, &client, &browser, "RS256").await;

        // Same browser, same scopes: straight back to the client with a code.
        let url = format!(
            "{}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20email%20profile&state=again",
            server.issuer, client.id, client.redirect_uri
        );
        let response = browser.get(&url).await;
        assert_eq!(response.status(), 303);
        let location = tessera_e2e::location(&response).unwrap();
        assert!(location.starts_with(&client.redirect_uri), "{location}");
        assert!(query_param(&location, "code").is_some());
        assert_eq!(query_param(&location, "state").as_deref(), Some("again"));
        server.stop().await;
    }
}

/// More redemptions at once than the server has database connections: each holds a
/// transaction while it works, so none may wait for a second connection, or they would all
/// wait for one another until the pool gave up (a 500 for every one of them).
#[tokio::test]
async fn more_parallel_redemptions_than_pooled_connections_all_succeed() {
    for engine in tessera_e2e::engines() {
        let server = tessera_e2e::TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let browser = tessera_e2e::Browser::new();
        let mut codes = Vec::new();
        for _ in 0..12 {
            let url = server.authorize_url(&client, &[]);
            codes.push(browser.authorization_code(&server, &url, "alice").await);
        }

        let server = std::sync::Arc::new(server);
        let mut redemptions = tokio::task::JoinSet::new();
        for code in codes {
            let (server, client) = (server.clone(), client.clone());
            redemptions.spawn(async move { server.redeem(&client, &code, None).await.status() });
        }
        while let Some(status) = redemptions.join_next().await {
            assert_eq!(status.unwrap(), 200);
        }
        let Ok(server) = std::sync::Arc::try_unwrap(server) else {
            panic!("every redemption task has finished");
        };
        server.stop().await;
    }
}
