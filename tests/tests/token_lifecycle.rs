//! Refresh tokens end to end (RFC 6749 §6, §10.4; OIDC Core §11, §12; RFC 9700 §4.14):
//! issue, rotation, reuse detection, scope narrowing, client binding, lifetimes and races.
//! The `openidconnect` crate plays the app where it covers the flow; raw HTTP the misuse.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    ClientId, ClientSecret, IssuerUrl, Nonce, OAuth2TokenResponse, RefreshToken, TokenResponse,
};
use serde_json::Value;
use tessera_e2e::expect::{assert_token_error, userinfo};
use tessera_e2e::lifecycle::{assert_tokens_json, text, ClientSpec};
use tessera_e2e::{engines, Browser, TestServer};

const OFFLINE: &str = "openid profile offline_access";

fn scope_set(scope: &str) -> BTreeSet<&str> {
    scope.split(' ').collect()
}

/// The claims of a JWT, read without verification (the server's own checks are tested
/// elsewhere; here only the values matter).
fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// OIDC Core §11 and §12, with the library as the app: a refresh gives a new access token,
/// a new refresh token and a new ID token for the same `sub` and `auth_time`, no `nonce`.
#[tokio::test]
async fn the_library_refreshes_and_gets_a_new_id_token() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let first = server.tokens_for(&client, "alice", OFFLINE).await;
        let first_id = jwt_claims(text(&first, "id_token"));

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
        );
        let refresh_token = RefreshToken::new(text(&first, "refresh_token").to_string());
        let refreshed = oidc
            .exchange_refresh_token(&refresh_token)
            .unwrap()
            .request_async(&http)
            .await
            .unwrap();

        // RFC 9700 §4.14.2: rotation hands out a new refresh token every time.
        let rotated = refreshed.refresh_token().expect("a rotated refresh token");
        assert_ne!(rotated.secret(), refresh_token.secret());
        assert_ne!(
            refreshed.access_token().secret(),
            text(&first, "access_token")
        );
        let scopes: BTreeSet<String> = refreshed
            .scopes()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let expected: BTreeSet<String> = scope_set(OFFLINE).iter().map(|s| s.to_string()).collect();
        assert_eq!(scopes, expected);

        // OIDC Core §12.2: the library checks signature, iss, aud, exp; we check that no
        // nonce came back and that sub and auth_time are those of the first ID token.
        let id_token = refreshed.id_token().expect("a new ID token");
        let no_nonce = |nonce: Option<&Nonce>| match nonce {
            None => Ok(()),
            Some(_) => Err("a refreshed ID token must not carry a nonce".to_string()),
        };
        let claims = id_token
            .claims(&oidc.id_token_verifier(), no_nonce)
            .unwrap();
        assert_eq!(claims.subject().as_str(), first_id["sub"].as_str().unwrap());
        assert_eq!(
            claims.auth_time().unwrap().timestamp(),
            first_id["auth_time"].as_i64().unwrap()
        );

        // The new access token works at userinfo.
        let response = userinfo(&server, refreshed.access_token().secret()).await;
        assert_eq!(response.status(), 200);
        server.stop().await;
    }
}

/// OIDC Core §11 and RFC 6749 §6: a refresh token only for offline_access or a client
/// registered for the refresh_token grant.
#[tokio::test]
async fn a_refresh_token_needs_offline_access_or_the_registered_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;

        let plain = server.tokens_for(&client, "alice", "openid profile").await;
        assert!(plain.get("refresh_token").is_none(), "{plain}");

        let offline = server.tokens_for(&client, "alice", OFFLINE).await;
        assert!(offline["refresh_token"].is_string(), "{offline}");

        let registered = server
            .create_client_spec(ClientSpec {
                grant_types: &["authorization_code", "refresh_token"],
                ..ClientSpec::default()
            })
            .await;
        let tokens = server.tokens_for(&registered, "alice", "openid").await;
        assert!(tokens["refresh_token"].is_string(), "{tokens}");
        server.stop().await;
    }
}

/// RFC 3.3 and OIDC Core §11: offline_access must be allowed for the client.
#[tokio::test]
async fn offline_access_not_allowed_for_the_client_is_invalid_scope() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server
            .create_client_spec(ClientSpec {
                scope: "openid profile",
                ..ClientSpec::default()
            })
            .await;
        let url = server.authorize_url(&client, &[("scope", OFFLINE)]);
        let callback = Browser::new().sign_in(&server, &url, "alice").await;
        let error = tessera_e2e::query_param(&callback, "error");
        assert_eq!(error.as_deref(), Some("invalid_scope"));
        server.stop().await;
    }
}

/// OIDC Core §11: a third-party client gets offline access only through consent.
#[tokio::test]
async fn offline_access_from_a_third_party_client_asks_for_consent() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server
            .create_client_spec(ClientSpec {
                first_party: false,
                ..ClientSpec::default()
            })
            .await;
        let url = server.authorize_url(&client, &[("scope", OFFLINE), ("prompt", "none")]);
        let browser = Browser::new();
        // Log in first through a request without offline_access, consenting to it.
        let plain = server.authorize_url(&client, &[("scope", "openid profile")]);
        browser.sign_in(&server, &plain, "alice").await;
        let response = browser.get(&url).await;
        let to = tessera_e2e::location(&response).unwrap();
        assert_eq!(
            tessera_e2e::query_param(&to, "error").as_deref(),
            Some("consent_required")
        );
        server.stop().await;
    }
}

/// RFC 9700 §4.14.2: a spent refresh token presented again is refused and its whole
/// family dies: the rotated refresh token and every access token issued from the family.
#[tokio::test]
async fn reuse_of_a_rotated_refresh_token_revokes_the_family() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let first = server.tokens_for(&client, "alice", OFFLINE).await;
        let rt1 = text(&first, "refresh_token");
        let second = assert_tokens_json(server.refresh(&client, rt1, None).await).await;
        let rt2 = text(&second, "refresh_token");

        let reuse = server.refresh(&client, rt1, None).await;
        assert_token_error(reuse, 400, "invalid_grant").await;

        let rotated = server.refresh(&client, rt2, None).await;
        assert_token_error(rotated, 400, "invalid_grant").await;
        for body in [&first, &second] {
            let access_token = text(body, "access_token");
            assert_eq!(userinfo(&server, access_token).await.status(), 401);
            let answer = server.introspect(&client, access_token).await;
            assert_eq!(answer, serde_json::json!({ "active": false }));
        }

        // The theft is on record, with the family's revocation.
        let events = server
            .provider
            .store()
            .recent_audit_events(10)
            .await
            .unwrap();
        let reuse = events
            .iter()
            .find(|e| e.detail.contains("refresh_token_reused"))
            .expect("an audit event for the reuse");
        assert_eq!(reuse.event_type, "token.refresh_token");
        assert_eq!(reuse.outcome, "failure");
        server.stop().await;
    }
}

/// RFC 6749 §4.1.2: a replayed code revokes what it produced, refresh families included.
#[tokio::test]
async fn a_replayed_code_revokes_its_refresh_tokens() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let url = server.authorize_url(&client, &[("scope", OFFLINE)]);
        let code = Browser::new()
            .authorization_code(&server, &url, "alice")
            .await;
        let tokens = assert_tokens_json(server.redeem(&client, &code, None).await).await;
        let replay = server.redeem(&client, &code, None).await;
        assert_token_error(replay, 400, "invalid_grant").await;

        let refresh = server
            .refresh(&client, text(&tokens, "refresh_token"), None)
            .await;
        assert_token_error(refresh, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// RFC 6749 §6: the scope may narrow on refresh, never widen; the refused request leaves
/// the refresh token usable, and a narrowed refresh keeps the grant's full scope for the
/// next one ("the refresh token scope MUST be identical").
#[tokio::test]
async fn scope_narrows_on_refresh_but_never_widens() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let first = server.tokens_for(&client, "alice", OFFLINE).await;
        let rt1 = text(&first, "refresh_token");

        let wider = server.refresh(&client, rt1, Some("openid email")).await;
        assert_token_error(wider, 400, "invalid_scope").await;

        let narrow = assert_tokens_json(server.refresh(&client, rt1, Some("openid")).await).await;
        assert_eq!(narrow["scope"], "openid");
        let claims = jwt_claims(text(&narrow, "access_token"));
        assert_eq!(claims["scope"], "openid");
        let info: Value = userinfo(&server, text(&narrow, "access_token"))
            .await
            .json()
            .await
            .unwrap();
        assert!(info.get("preferred_username").is_none(), "{info}");

        let rt2 = text(&narrow, "refresh_token");
        let again = assert_tokens_json(server.refresh(&client, rt2, None).await).await;
        assert_eq!(scope_set(text(&again, "scope")), scope_set(OFFLINE));
        server.stop().await;
    }
}

/// RFC 6749 §6: the refresh token must have been issued to the authenticated client.
/// Another client's attempt changes nothing for the owner.
#[tokio::test]
async fn another_clients_refresh_token_is_invalid_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let owner = server.create_client_spec(ClientSpec::default()).await;
        let thief = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&owner, "alice", OFFLINE).await;
        let rt = text(&tokens, "refresh_token");

        let stolen = server.refresh(&thief, rt, None).await;
        assert_token_error(stolen, 400, "invalid_grant").await;

        assert_tokens_json(server.refresh(&owner, rt, None).await).await;
        server.stop().await;
    }
}

/// A refresh token left unused past the client's idle lifetime expires.
#[tokio::test]
async fn an_idle_refresh_token_expires() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        server.set_refresh_ttls(&client, 3600, 1).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;

        tokio::time::sleep(Duration::from_millis(2100)).await;
        let late = server
            .refresh(&client, text(&tokens, "refresh_token"), None)
            .await;
        assert_token_error(late, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// The absolute lifetime runs from the first issue and survives rotation.
#[tokio::test]
async fn the_absolute_lifetime_survives_rotation() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        server.set_refresh_ttls(&client, 3, 3600).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let rotated = assert_tokens_json(
            server
                .refresh(&client, text(&tokens, "refresh_token"), None)
                .await,
        )
        .await;

        tokio::time::sleep(Duration::from_millis(3100)).await;
        let late = server
            .refresh(&client, text(&rotated, "refresh_token"), None)
            .await;
        assert_token_error(late, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// RFC 9700 §4.14.2: two concurrent uses of one refresh token: exactly one succeeds.
#[tokio::test]
async fn of_two_concurrent_refreshes_exactly_one_succeeds() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let rt = text(&tokens, "refresh_token");

        let (a, b) = tokio::join!(
            server.refresh(&client, rt, None),
            server.refresh(&client, rt, None)
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400]);
        for response in [a, b] {
            if response.status() == 400 {
                assert_token_error(response, 400, "invalid_grant").await;
            }
        }
        server.stop().await;
    }
}

/// A disabled person's refresh tokens stop working (OIDC Core §12.2 leaves the decision to
/// the OP; Tessera refuses).
#[tokio::test]
async fn a_disabled_persons_refresh_token_is_invalid_grant() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let store = server.provider.store();
        let user = store.user_by_username_key("alice").await.unwrap().unwrap();
        // Disabled without revoking, to test the refresh grant's own check.
        let mut tx = store.begin().await.unwrap();
        tx.set_user_disabled(&user.id, true, tessera_core::unix_now())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let refresh = server
            .refresh(&client, text(&tokens, "refresh_token"), None)
            .await;
        assert_token_error(refresh, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// A public client refreshes with rotation (RFC 9700 §4.14.2), naming itself.
#[tokio::test]
async fn a_public_client_refreshes_with_rotation() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server
            .create_client_spec(ClientSpec {
                public: true,
                ..ClientSpec::default()
            })
            .await;
        let url = server.authorize_url(
            &client,
            &[
                ("scope", OFFLINE),
                ("code_challenge", tessera_e2e::PKCE_CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        );
        let code = Browser::new()
            .authorization_code(&server, &url, "alice")
            .await;
        let tokens = assert_tokens_json(
            server
                .redeem(&client, &code, Some(tessera_e2e::PKCE_VERIFIER))
                .await,
        )
        .await;
        let rt = text(&tokens, "refresh_token");
        assert_tokens_json(server.refresh(&client, rt, None).await).await;
        let reuse = server.refresh(&client, rt, None).await;
        assert_token_error(reuse, 400, "invalid_grant").await;
        server.stop().await;
    }
}
