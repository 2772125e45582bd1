//! Revocation (RFC 7009), introspection (RFC 7662), the client credentials grant (RFC 6749
//! §4.4), disabling a person, and the discovery document that advertises them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreRevocableToken, CoreTokenType};
use openidconnect::{
    AccessToken, ClientId, ClientSecret, IntrospectionUrl, IssuerUrl, RefreshToken, RevocationUrl,
    TokenIntrospectionResponse,
};
use serde_json::{json, Value};
use tessera_e2e::expect::{assert_token_error, userinfo};
use tessera_e2e::lifecycle::{assert_tokens_json, text, ClientSpec};
use tessera_e2e::{engines, TestClient, TestServer};

const OFFLINE: &str = "openid profile offline_access";

fn inactive() -> Value {
    json!({ "active": false })
}

fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn discovery(server: &TestServer) -> Value {
    let response = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    response.json().await.unwrap()
}

/// OIDC Discovery §3 and RFC 8414 §2: what the lifecycle adds, and only what works.
#[tokio::test]
async fn discovery_advertises_the_token_lifecycle() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let doc = discovery(&server).await;
        assert_eq!(
            doc["grant_types_supported"],
            json!(["authorization_code", "refresh_token", "client_credentials"])
        );
        assert_eq!(doc["revocation_endpoint"], server.url("/revoke"));
        assert_eq!(doc["introspection_endpoint"], server.url("/introspect"));
        assert_eq!(
            doc["revocation_endpoint_auth_methods_supported"],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none"
            ])
        );
        assert_eq!(
            doc["introspection_endpoint_auth_methods_supported"],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt"
            ])
        );
        // RFC 8414 §2: with private_key_jwt listed, the algorithms are listed too.
        for name in [
            "revocation_endpoint_auth_signing_alg_values_supported",
            "introspection_endpoint_auth_signing_alg_values_supported",
        ] {
            assert_eq!(doc[name], json!(["RS256", "ES256", "PS256"]), "{name}");
        }
        // Each claim once (OIDC Discovery §3).
        let claims = doc["claims_supported"].as_array().unwrap();
        for claim in claims {
            let count = claims.iter().filter(|c| *c == claim).count();
            assert_eq!(count, 1, "{claim} listed {count} times");
        }
        let scopes = doc["scopes_supported"].as_array().unwrap();
        assert!(scopes.contains(&json!("offline_access")), "{scopes:?}");
        server.stop().await;
    }
}

/// The library introspects through the discovered endpoint; revocation follows.
#[tokio::test]
async fn the_library_introspects_and_revokes() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let doc = discovery(&server).await;

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
        .set_introspection_url(
            IntrospectionUrl::new(text(&doc, "introspection_endpoint").to_string()).unwrap(),
        )
        .set_revocation_url(
            RevocationUrl::new(text(&doc, "revocation_endpoint").to_string()).unwrap(),
        );

        // RFC 7662 §2.2: the members of an active answer.
        let access_token = AccessToken::new(text(&tokens, "access_token").to_string());
        let answer = oidc
            .introspect(&access_token)
            .request_async(&http)
            .await
            .unwrap();
        let claims = jwt_claims(access_token.secret());
        assert!(answer.active());
        assert_eq!(answer.client_id().unwrap().as_str(), client.id);
        assert_eq!(answer.sub(), claims["sub"].as_str());
        assert_eq!(answer.iss(), Some(server.issuer.as_str()));
        assert_eq!(answer.jti(), claims["jti"].as_str());
        assert_eq!(answer.token_type(), Some(&CoreTokenType::Bearer));
        assert_eq!(answer.aud(), Some(&vec![server.issuer.clone()]));
        assert_eq!(
            answer.exp().unwrap().timestamp(),
            claims["exp"].as_i64().unwrap()
        );
        assert_eq!(
            answer.iat().unwrap().timestamp(),
            claims["iat"].as_i64().unwrap()
        );
        let mut scopes: Vec<String> = answer
            .scopes()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        scopes.sort();
        assert_eq!(scopes, ["offline_access", "openid", "profile"]);

        // RFC 7009 §2.1: revoking the refresh token revokes the grant's access tokens too.
        // The library refuses to revoke over plain http (RFC 7009 §2 requires TLS), and the
        // test server is http on loopback: the request is built by hand, the way the
        // library would send it (Basic credentials, `token` and `token_type_hint`).
        let refresh_token = text(&tokens, "refresh_token");
        let insecure = oidc.revoke_token(CoreRevocableToken::from(RefreshToken::new(
            refresh_token.to_string(),
        )));
        assert!(insecure.is_err(), "the library now revokes over http");
        let form = [
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ];
        let response = server.post_as(&client, "/revoke", &form).await;
        assert_eq!(response.status(), 200);
        let answer = oidc
            .introspect(&access_token)
            .request_async(&http)
            .await
            .unwrap();
        assert!(!answer.active());
        let refresh = server.refresh(&client, refresh_token, None).await;
        assert_token_error(refresh, 400, "invalid_grant").await;
        server.stop().await;
    }
}

/// A revoked access token fails at userinfo and introspection at once (RFC 7009 §2), and
/// revoking it leaves the refresh token alone.
#[tokio::test]
async fn a_revoked_access_token_dies_immediately() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let access_token = text(&tokens, "access_token");
        assert_eq!(userinfo(&server, access_token).await.status(), 200);

        let response = server.revoke(&client, access_token).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "");

        let refused = userinfo(&server, access_token).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(server.introspect(&client, access_token).await, inactive());

        let refresh = server
            .refresh(&client, text(&tokens, "refresh_token"), None)
            .await;
        assert_tokens_json(refresh).await;
        server.stop().await;
    }
}

/// A client revokes only its own tokens. Another client's attempt answers 200 (see
/// `tessera_core::revocation` for why) and revokes nothing.
#[tokio::test]
async fn revocation_by_another_client_leaves_the_tokens_active() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let owner = server.create_client_spec(ClientSpec::default()).await;
        let other = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&owner, "alice", OFFLINE).await;
        let access_token = text(&tokens, "access_token");
        let refresh_token = text(&tokens, "refresh_token");

        for token in [access_token, refresh_token] {
            let response = server.revoke(&other, token).await;
            assert_eq!(response.status(), 200);
        }

        let answer = server.introspect(&owner, access_token).await;
        assert_eq!(answer["active"], true);
        assert_eq!(userinfo(&server, access_token).await.status(), 200);
        assert_tokens_json(server.refresh(&owner, refresh_token, None).await).await;
        server.stop().await;
    }
}

/// RFC 7009 §2.2: an unknown token answers 200; §2.1: the client must authenticate, and
/// `token` is required.
#[tokio::test]
async fn revocation_errors() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let client = server.create_client_spec(ClientSpec::default()).await;

        let unknown = server.revoke(&client, "no-such-token").await;
        assert_eq!(unknown.status(), 200);
        let forged = server.revoke(&client, "eyJhbGciOiJub25lIn0.e30.").await;
        assert_eq!(forged.status(), 200);

        let impostor = TestClient {
            secret: Some("wrong".into()),
            ..client.clone()
        };
        let response = server.revoke(&impostor, "no-such-token").await;
        assert_token_error(response, 401, "invalid_client").await;

        let response = server.post_as(&client, "/revoke", &[]).await;
        assert_token_error(response, 400, "invalid_request").await;
        server.stop().await;
    }
}

/// RFC 7662 §2.1: introspection requires client authentication; without it, 401.
#[tokio::test]
async fn introspection_without_client_authentication_is_401() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let form = [("token", text(&tokens, "access_token"))];

        let anonymous = reqwest::Client::new()
            .post(server.url("/introspect"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let headers = assert_token_error(anonymous, 401, "invalid_client").await;
        assert!(headers.contains_key("www-authenticate"));

        let impostor = TestClient {
            secret: Some("wrong".into()),
            ..client.clone()
        };
        let wrong = server.post_as(&impostor, "/introspect", &form).await;
        assert_token_error(wrong, 401, "invalid_client").await;

        // A public client proves nothing, so it may not introspect.
        let public = server
            .create_client_spec(ClientSpec {
                public: true,
                ..ClientSpec::default()
            })
            .await;
        let response = server.post_as(&public, "/introspect", &form).await;
        assert_token_error(response, 401, "invalid_client").await;
        server.stop().await;
    }
}

/// RFC 7662 §2.2: garbage, revoked, expired, spent and foreign tokens all answer exactly
/// `{"active":false}`, whatever the reason.
#[tokio::test]
async fn inactive_tokens_answer_only_active_false() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let other = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let access_token = text(&tokens, "access_token");
        let refresh_token = text(&tokens, "refresh_token");

        for garbage in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
            assert_eq!(server.introspect(&client, garbage).await, inactive());
        }

        // Foreign: issued to another client, and not naming the caller as audience.
        assert_eq!(server.introspect(&other, access_token).await, inactive());
        assert_eq!(server.introspect(&other, refresh_token).await, inactive());

        // The live refresh token is active for its own client, then spent by rotation.
        let live = server.introspect(&client, refresh_token).await;
        assert_eq!(live["active"], true);
        assert_eq!(live["client_id"], client.id.as_str());
        assert_tokens_json(server.refresh(&client, refresh_token, None).await).await;
        assert_eq!(server.introspect(&client, refresh_token).await, inactive());

        // Revoked.
        server.revoke(&client, access_token).await;
        assert_eq!(server.introspect(&client, access_token).await, inactive());

        // Expired: a refresh token past its idle lifetime.
        server.set_refresh_ttls(&client, 3600, 1).await;
        let fresh = server.tokens_for(&client, "alice", OFFLINE).await;
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let expired = text(&fresh, "refresh_token");
        assert_eq!(server.introspect(&client, expired).await, inactive());
        server.stop().await;
    }
}

/// RFC 6749 §4.4: a confidential service client gets an access token for its allowed
/// scopes, with `sub` = its client id (RFC 9068 §2.2), and no ID or refresh token.
#[tokio::test]
async fn client_credentials_for_allowed_scopes() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let service = server
            .create_client_spec(ClientSpec {
                scope: "openid api.read api.write",
                grant_types: &["client_credentials"],
                ..ClientSpec::default()
            })
            .await;
        let form = [("grant_type", "client_credentials"), ("scope", "api.read")];
        let body = assert_tokens_json(server.post_as(&service, "/token", &form).await).await;
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "api.read");
        assert!(body.get("id_token").is_none(), "{body}");
        assert!(body.get("refresh_token").is_none(), "{body}");
        let claims = jwt_claims(text(&body, "access_token"));
        assert_eq!(claims["sub"], service.id.as_str());
        assert_eq!(claims["client_id"], service.id.as_str());
        assert!(claims.get("auth_time").is_none(), "{claims}");

        let answer = server
            .introspect(&service, text(&body, "access_token"))
            .await;
        assert_eq!(answer["active"], true);
        assert_eq!(answer["sub"], service.id.as_str());

        // RFC 6749 §3.3: without `scope`, the client's service scopes.
        let form = [("grant_type", "client_credentials")];
        let body = assert_tokens_json(server.post_as(&service, "/token", &form).await).await;
        assert_eq!(body["scope"], "api.read api.write");
        server.stop().await;
    }
}

/// RFC 6749 §4.4 and §5.2: the grant's refusals, one rule each.
#[tokio::test]
async fn client_credentials_refusals() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let service = server
            .create_client_spec(ClientSpec {
                scope: "openid api.read",
                grant_types: &["client_credentials"],
                ..ClientSpec::default()
            })
            .await;

        // A scope the client was not granted.
        let form = [("grant_type", "client_credentials"), ("scope", "api.admin")];
        let response = server.post_as(&service, "/token", &form).await;
        assert_token_error(response, 400, "invalid_scope").await;

        // An OpenID scope, though allowed for the client: no person is involved.
        let form = [("grant_type", "client_credentials"), ("scope", "openid")];
        let response = server.post_as(&service, "/token", &form).await;
        assert_token_error(response, 400, "invalid_scope").await;

        // A client not registered for the grant.
        let app = server.create_client_spec(ClientSpec::default()).await;
        let form = [("grant_type", "client_credentials")];
        let response = server.post_as(&app, "/token", &form).await;
        assert_token_error(response, 400, "unauthorized_client").await;

        // A public client.
        let public = server
            .create_client_spec(ClientSpec {
                public: true,
                ..ClientSpec::default()
            })
            .await;
        let response = server.post_as(&public, "/token", &form).await;
        assert_token_error(response, 400, "unauthorized_client").await;

        // And the service, registered for client_credentials only, redeems no codes.
        let form = [
            ("grant_type", "authorization_code"),
            ("code", "anything"),
            ("redirect_uri", tessera_e2e::REDIRECT_URI),
        ];
        let response = server.post_as(&service, "/token", &form).await;
        assert_token_error(response, 400, "unauthorized_client").await;
        server.stop().await;
    }
}

/// Disabling a person (the `tessera user disable` command's domain call) revokes every
/// token they hold; enabling them again brings none back.
#[tokio::test]
async fn a_disabled_persons_tokens_are_dead() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let access_token = text(&tokens, "access_token");
        let refresh_token = text(&tokens, "refresh_token");
        let store = server.provider.store();
        let now = tessera_core::unix_now();

        let revoked = tessera_core::accounts::set_user_disabled(store, "alice", true, now)
            .await
            .unwrap();
        assert_eq!(revoked.refresh_tokens, 1);
        assert_eq!(revoked.access_tokens, 1);
        tessera_core::accounts::set_user_disabled(store, "alice", false, now)
            .await
            .unwrap();

        assert_eq!(userinfo(&server, access_token).await.status(), 401);
        assert_eq!(server.introspect(&client, access_token).await, inactive());
        assert_eq!(server.introspect(&client, refresh_token).await, inactive());
        let refresh = server.refresh(&client, refresh_token, None).await;
        assert_token_error(refresh, 400, "invalid_grant").await;

        // Newer than the disabling: the enabling, a userinfo call, two introspections and a
        // refresh.
        let events = store.recent_audit_events(20).await.unwrap();
        assert!(events.iter().any(|e| e.event_type == "user.disable"));
        server.stop().await;
    }
}

/// RFC 7662 §2.2: an expired access token is inactive. The access-token lifetime is five
/// minutes, so the provider is asked directly, with a clock past the token's `exp`.
#[tokio::test]
async fn an_expired_access_token_is_inactive() {
    use base64::Engine;
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let access_token = text(&tokens, "access_token");
        let exp = jwt_claims(access_token)["exp"].as_i64().unwrap();
        let credentials = format!("{}:{}", client.id, client.secret.as_deref().unwrap());
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        );
        let ask = |now: i64| {
            let body = format!("token={access_token}");
            let params = tessera_protocol::params::Params::parse(body.as_bytes()).unwrap();
            let ctx = tessera_core::RequestContext::default();
            let provider = server.provider.clone();
            let basic = basic.clone();
            async move {
                let answer = provider
                    .introspect(Some(&basic), params, now, &ctx)
                    .await
                    .unwrap()
                    .unwrap();
                serde_json::to_value(answer).unwrap()
            }
        };

        assert_eq!(ask(exp - 1).await["active"], true);
        assert_eq!(ask(exp).await, inactive());
        server.stop().await;
    }
}

/// Revocations and introspections are audit events, with no token in them.
#[tokio::test]
async fn revocation_and_introspection_are_audited() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let access_token = text(&tokens, "access_token");
        let refresh_token = text(&tokens, "refresh_token");
        server.introspect(&client, access_token).await;
        server.revoke(&client, refresh_token).await;
        server.revoke(&client, "no-such-token").await;

        let events = server
            .provider
            .store()
            .recent_audit_events(20)
            .await
            .unwrap();
        let recorded = |kind: &str, outcome: &str| {
            events
                .iter()
                .any(|e| e.event_type == kind && e.outcome == outcome)
        };
        assert!(recorded("token.introspection", "success"), "{events:?}");
        assert!(recorded("token.revocation", "success"), "{events:?}");
        assert!(recorded("token.revocation", "failure"), "{events:?}");
        for event in &events {
            assert!(!event.detail.contains(access_token), "{event:?}");
            assert!(!event.detail.contains(refresh_token), "{event:?}");
        }
        server.stop().await;
    }
}

/// RFC 7009 §2.1: the hint only guides the search; a wrong one still finds the token.
#[tokio::test]
async fn a_wrong_hint_still_revokes() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let refresh_token = text(&tokens, "refresh_token");
        let form = [
            ("token", refresh_token),
            ("token_type_hint", "access_token"),
        ];
        let response = server.post_as(&client, "/revoke", &form).await;
        assert_eq!(response.status(), 200);
        assert_eq!(server.introspect(&client, refresh_token).await, inactive());
        server.stop().await;
    }
}

/// Introspection checks the person itself, not only the revocations that disabling makes.
#[tokio::test]
async fn tokens_of_a_disabled_person_are_inactive_even_unrevoked() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client_spec(ClientSpec::default()).await;
        let tokens = server.tokens_for(&client, "alice", OFFLINE).await;
        let store = server.provider.store();
        let user = store.user_by_username_key("alice").await.unwrap().unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.set_user_disabled(&user.id, true, tessera_core::unix_now())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        for name in ["access_token", "refresh_token"] {
            let answer = server.introspect(&client, text(&tokens, name)).await;
            assert_eq!(answer, inactive(), "{name}");
        }
        server.stop().await;
    }
}
