#![allow(clippy::unwrap_used, clippy::panic)]
//! The store's contract, run on SQLite and (when configured) PostgreSQL alike.

use tessera_store::testing::on_each_engine;
use tessera_store::{
    AccessTokenRecord, AuditEvent, AuthorizationCode, DeviceVisit, Interaction, NewClient, NewUser,
    Outcome, Redemption, Session, Store, StoreError,
};

const NOW: i64 = 1_800_000_000;

async fn seed_user(store: &Store, id: &str, key: &str) {
    let mut tx = store.begin().await.unwrap();
    let user = NewUser {
        id,
        username: key,
        username_key: key,
        email: Some("alice@example.com"),
        display_name: Some("Alice"),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
    };
    tx.insert_user(&user, NOW).await.unwrap();
    tx.commit().await.unwrap();
}

async fn seed_client(store: &Store, id: &str) {
    let mut tx = store.begin().await.unwrap();
    let uris = vec!["https://app.example/cb".to_string()];
    let client = NewClient {
        id,
        name: "App",
        secret_hash: Some(&[7u8; 32]),
        redirect_uris: &uris,
        allowed_scope: "openid profile email",
        id_token_alg: "RS256",
        first_party: false,
        grant_types: &["authorization_code".to_string()],
        jwks: None,
        jwks_uri: None,
        post_logout_redirect_uris: &[],
        backchannel_logout_uri: None,
        refresh_token_ttl: tessera_store::DEFAULT_REFRESH_TOKEN_TTL,
        refresh_token_idle_ttl: tessera_store::DEFAULT_REFRESH_TOKEN_IDLE_TTL,
        token_endpoint_auth_method: "client_secret_basic",
        access_token_ttl: None,
        mfa: "default",
    };
    tx.insert_client(&client, NOW).await.unwrap();
    tx.commit().await.unwrap();
}

fn code_for(client_id: &str, user_id: &str) -> AuthorizationCode {
    AuthorizationCode {
        client_id: client_id.into(),
        user_id: user_id.into(),
        redirect_uri: "https://app.example/cb".into(),
        scope: "openid".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: None,
        auth_time: NOW,
        amr: "pwd".into(),
        sid: Some("sid-1".into()),
        expires_at: NOW + 60,
        risk: None,
    }
}

#[tokio::test]
async fn users_round_trip_and_normalised_names_are_unique() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1", "alice").await;

        let user = store.user_by_username_key("alice").await.unwrap().unwrap();
        assert_eq!(user.id, "u1");
        assert_eq!(user.email.as_deref(), Some("alice@example.com"));
        assert!(!user.email_verified);
        assert!(!user.disabled);
        assert_eq!(user.created_at, NOW);

        let mut tx = store.begin().await.unwrap();
        let twin = NewUser {
            id: "u2",
            username: "ALICE",
            username_key: "alice",
            email: None,
            display_name: None,
            password_hash: None,
        };
        let err = tx.insert_user(&twin, NOW).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict), "got {err:?}");
    })
    .await;
}

#[tokio::test]
async fn clients_keep_their_exact_redirect_uris() {
    on_each_engine(|store| async move {
        seed_client(&store, "app").await;
        let client = store.client("app").await.unwrap().unwrap();
        assert_eq!(
            client.redirect_uris,
            vec!["https://app.example/cb".to_string()]
        );
        assert_eq!(client.secret_hash, Some(vec![7u8; 32]));
        assert_eq!(client.allowed_scope, "openid profile email");
        assert!(store.client("other").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn a_code_is_claimed_once_and_a_replay_is_recognised() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1", "alice").await;
        seed_client(&store, "app").await;
        let hash = [1u8; 32];

        let mut tx = store.begin().await.unwrap();
        tx.insert_code(&hash, &code_for("app", "u1"), NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let first = tx.claim_code(&hash, NOW + 1).await.unwrap();
        tx.commit().await.unwrap();
        match first {
            Redemption::Claimed(code) => {
                assert_eq!(code.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
                assert_eq!(code.user_id, "u1");
                assert_eq!(code.sid.as_deref(), Some("sid-1"));
            }
            other => panic!("expected the code to be claimed, got {other:?}"),
        }

        let mut tx = store.begin().await.unwrap();
        let second = tx.claim_code(&hash, NOW + 2).await.unwrap();
        assert!(matches!(second, Redemption::Replayed { ref client_id, .. } if client_id == "app"));

        let unknown = tx.claim_code(&[2u8; 32], NOW + 2).await.unwrap();
        assert!(matches!(unknown, Redemption::Unknown));
    })
    .await;
}

#[tokio::test]
async fn an_expired_code_cannot_be_claimed() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1", "alice").await;
        seed_client(&store, "app").await;
        let hash = [3u8; 32];
        let mut tx = store.begin().await.unwrap();
        tx.insert_code(&hash, &code_for("app", "u1"), NOW)
            .await
            .unwrap();
        let claimed = tx.claim_code(&hash, NOW + 60).await.unwrap();
        assert!(
            matches!(claimed, Redemption::Unknown),
            "a code expires at exactly 60 s"
        );
    })
    .await;
}

#[tokio::test]
async fn access_tokens_resolve_to_their_user_until_revoked() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1", "alice").await;
        seed_client(&store, "app").await;
        let code_hash = [4u8; 32];
        let token = AccessTokenRecord {
            jti: "jti-1".into(),
            client_id: "app".into(),
            user_id: Some("u1".into()),
            scope: "openid".into(),
            issued_at: NOW,
            expires_at: NOW + 300,
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_access_token(&token, Some(&code_hash))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let holder = |subject: &'static str, at: i64| {
            let store = store.clone();
            async move {
                store
                    .user_for_access_token("jti-1", subject, at)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            holder("u1", NOW + 1).await.map(|u| u.id).as_deref(),
            Some("u1")
        );
        assert!(
            holder("u2", NOW + 1).await.is_none(),
            "issued to another subject"
        );
        assert!(holder("u1", NOW + 300).await.is_none(), "expired");

        let mut tx = store.begin().await.unwrap();
        tx.set_user_disabled("u1", true, NOW).await.unwrap();
        tx.commit().await.unwrap();
        assert!(holder("u1", NOW + 1).await.is_none(), "user disabled");
        let mut tx = store.begin().await.unwrap();
        tx.set_user_disabled("u1", false, NOW).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.revoke_tokens_of_code(&code_hash, NOW + 2).await.unwrap(),
            1
        );
        tx.commit().await.unwrap();
        assert!(holder("u1", NOW + 3).await.is_none(), "revoked");
    })
    .await;
}

#[tokio::test]
async fn sessions_and_interactions_expire() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1", "alice").await;
        let session = Session {
            user_id: "u1".into(),
            auth_time: NOW,
            amr: "pwd".into(),
            sid: None,
            expires_at: NOW + 10,
            risk: None,
        };
        let interaction = Interaction {
            purpose: "authorization".into(),
            request: "{}".into(),
            authenticated_at: None,
            expires_at: NOW + 10,
            pending_user_id: None,
            password_verified_at: None,
            step_up_session: None,
            risk: None,
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_session(&[5u8; 32], &session, NOW).await.unwrap();
        tx.insert_interaction(&[6u8; 32], &interaction, NOW)
            .await
            .unwrap();
        tx.mark_interaction_authenticated(&[6u8; 32], NOW + 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(
            store
                .session(&[5u8; 32], NOW + 9)
                .await
                .unwrap()
                .unwrap()
                .user_id,
            "u1"
        );
        assert!(store.session(&[5u8; 32], NOW + 10).await.unwrap().is_none());
        let found = store
            .interaction(&[6u8; 32], NOW + 9)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.authenticated_at, Some(NOW + 1));
        assert!(store
            .interaction(&[6u8; 32], NOW + 10)
            .await
            .unwrap()
            .is_none());

        let mut tx = store.begin().await.unwrap();
        tx.delete_session(&[5u8; 32]).await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.session(&[5u8; 32], NOW).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn consent_is_replaced_per_user_and_client() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1", "alice").await;
        seed_client(&store, "app").await;
        let mut tx = store.begin().await.unwrap();
        tx.upsert_consent("u1", "app", "openid", NOW).await.unwrap();
        tx.upsert_consent("u1", "app", "email openid", NOW + 5)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let consent = store.consent("u1", "app").await.unwrap().unwrap();
        assert_eq!(consent.scope, "email openid");
        assert_eq!(consent.granted_at, NOW + 5);
    })
    .await;
}

#[tokio::test]
async fn an_audit_event_commits_or_rolls_back_with_its_change() {
    on_each_engine(|store| async move {
        seed_client(&store, "app").await;
        let event = AuditEvent {
            occurred_at: NOW,
            event_type: "login.password",
            outcome: Outcome::Success,
            client_id: Some("app".into()),
            source_ip: Some("127.0.0.1".into()),
            detail: serde_json::json!({"reason": "test"}),
            ..AuditEvent::default()
        };

        let mut tx = store.begin().await.unwrap();
        tx.record(&event).await.unwrap();
        drop(tx); // rolled back
        assert!(store.recent_audit_events(10).await.unwrap().is_empty());

        let mut tx = store.begin().await.unwrap();
        tx.record(&event).await.unwrap();
        tx.commit().await.unwrap();
        let events = store.recent_audit_events(10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "login.password");
        assert_eq!(events[0].outcome, "success");
        assert_eq!(events[0].detail, r#"{"reason":"test"}"#);
    })
    .await;
}

#[tokio::test]
async fn purge_removes_only_what_has_expired() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1", "alice").await;
        seed_client(&store, "app").await;
        let live = Session {
            user_id: "u1".into(),
            auth_time: NOW,
            amr: "pwd".into(),
            sid: None,
            expires_at: NOW + 100,
            risk: None,
        };
        let dead = Session {
            expires_at: NOW + 10,
            ..live.clone()
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_session(&[1u8; 32], &live, NOW).await.unwrap();
        tx.insert_session(&[2u8; 32], &dead, NOW).await.unwrap();
        tx.insert_code(&[3u8; 32], &code_for("app", "u1"), NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // At NOW + 50 the short session is gone; the code (expired at NOW + 60) is kept.
        assert_eq!(store.purge_expired(NOW + 50).await.unwrap(), 1);
        assert!(store.session(&[1u8; 32], NOW + 50).await.unwrap().is_some());

        // A spent code is kept for a day so that a replay still revokes its tokens.
        let day = tessera_store::SPENT_CODE_RETENTION;
        assert_eq!(
            store.purge_expired(NOW + 60 + day - 1).await.unwrap(),
            1,
            "only the long session"
        );
        assert_eq!(
            store.purge_expired(NOW + 60 + day).await.unwrap(),
            1,
            "now the code"
        );
    })
    .await;
}

/// A device's links outlive its session only while a refresh token of that session lives;
/// a device unseen for 400 days (its cookie's whole life) goes with its links.
#[tokio::test]
async fn purge_forgets_dead_device_links_and_devices_no_cookie_can_name() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1", "alice").await;
        let day = 24 * 3600;
        let mut tx = store.begin().await.unwrap();
        for (device, sid, at) in [("d-old", "s-old", NOW - 401 * day), ("d-new", "s-new", NOW)] {
            let visit = DeviceVisit {
                user_id: "u1",
                device_id: device,
                user_agent: None,
                ip: None,
                sid,
            };
            tx.touch_device(&visit, at).await.unwrap();
        }
        tx.commit().await.unwrap();

        store.purge_expired(NOW).await.unwrap();
        let left: Vec<String> = store
            .devices("u1")
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.device_id)
            .collect();
        assert_eq!(left, ["d-new"]);
        // No session or refresh token holds either sid: the links are gone, the recent
        // device stays listed.
        assert!(store.device_sids("u1", "d-new").await.unwrap().is_empty());
        assert!(store.device_sids("u1", "d-old").await.unwrap().is_empty());
    })
    .await;
}
