#![allow(clippy::unwrap_used, clippy::panic)]
//! The refresh-token store's contract, on SQLite and (when configured) PostgreSQL alike:
//! atomic claims, replay and client binding, lifetimes, revocation and purge.

use std::time::Duration;

use tessera_store::testing::on_each_engine;
use tessera_store::{
    AccessTokenRecord, NewClient, NewUser, RefreshClaim, RefreshTokenRecord, Revoked, Store,
};

const NOW: i64 = 1_800_000_000;
const HASH: [u8; 32] = [1u8; 32];

async fn seed(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    for (id, key) in [("u1", "alice"), ("u2", "bob")] {
        let user = NewUser {
            id,
            username: key,
            username_key: key,
            email: None,
            display_name: None,
            password_hash: None,
        };
        tx.insert_user(&user, NOW).await.unwrap();
    }
    let uris = vec!["https://app.example/cb".to_string()];
    for id in ["app", "other"] {
        let client = NewClient {
            id,
            name: "App",
            secret_hash: Some(&[7u8; 32]),
            redirect_uris: &uris,
            allowed_scope: "openid offline_access",
            id_token_alg: "RS256",
            first_party: false,
            grant_types: &["authorization_code".to_string()],
            jwks: None,
            jwks_uri: None,
            post_logout_redirect_uris: &[],
            backchannel_logout_uri: None,
            refresh_token_ttl: 100,
            refresh_token_idle_ttl: 10,
            token_endpoint_auth_method: "client_secret_basic",
            access_token_ttl: None,
            mfa: "default",
        };
        tx.insert_client(&client, NOW).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn token(family: &str, user: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        family_id: family.into(),
        client_id: "app".into(),
        user_id: user.into(),
        scope: "openid offline_access".into(),
        auth_time: NOW,
        amr: "pwd".into(),
        sid: Some("sid-1".into()),
        issued_at: NOW,
        expires_at: NOW + 100,
        idle_expires_at: NOW + 10,
        risk: None,
    }
}

async fn insert(store: &Store, hash: [u8; 32], record: &RefreshTokenRecord) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_refresh_token(&hash, record).await.unwrap();
    tx.commit().await.unwrap();
}

async fn insert_access(store: &Store, jti: &str, user: &str, family: Option<&str>) {
    let mut tx = store.begin().await.unwrap();
    let record = AccessTokenRecord {
        jti: jti.into(),
        client_id: "app".into(),
        user_id: Some(user.into()),
        scope: "openid".into(),
        issued_at: NOW,
        expires_at: NOW + 300,
    };
    tx.insert_access_token_in_family(&record, None, family)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn claim(store: &Store, hash: [u8; 32], client: &str, now: i64) -> RefreshClaim {
    let mut tx = store.begin().await.unwrap();
    let claim = tx.claim_refresh_token(&hash, client, now).await.unwrap();
    tx.commit().await.unwrap();
    claim
}

#[tokio::test]
async fn a_refresh_token_is_claimed_once_and_its_reuse_is_recognised() {
    on_each_engine(|store| async move {
        seed(&store).await;
        insert(&store, HASH, &token("f1", "u1")).await;

        match claim(&store, HASH, "app", NOW + 1).await {
            RefreshClaim::Claimed(record) => {
                assert_eq!(record.family_id, "f1");
                assert_eq!(record.sid.as_deref(), Some("sid-1"));
            }
            other => panic!("expected a claim, got {other:?}"),
        }
        match claim(&store, HASH, "app", NOW + 2).await {
            RefreshClaim::Replayed { family_id, user_id } => {
                assert_eq!(family_id, "f1");
                assert_eq!(user_id, "u1");
            }
            other => panic!("expected a replay, got {other:?}"),
        }
        let stored = store.refresh_token(&HASH).await.unwrap().unwrap();
        assert_eq!(stored.used_at, Some(NOW + 1));
        assert!(!stored.is_live(NOW + 2));
    })
    .await;
}

#[tokio::test]
async fn another_clients_claim_changes_nothing() {
    on_each_engine(|store| async move {
        seed(&store).await;
        insert(&store, HASH, &token("f1", "u1")).await;
        assert!(matches!(
            claim(&store, HASH, "other", NOW + 1).await,
            RefreshClaim::Foreign
        ));
        let stored = store.refresh_token(&HASH).await.unwrap().unwrap();
        assert_eq!(stored.used_at, None);
        assert!(matches!(
            claim(&store, HASH, "app", NOW + 1).await,
            RefreshClaim::Claimed(_)
        ));
    })
    .await;
}

#[tokio::test]
async fn idle_absolute_and_revoked_tokens_cannot_be_claimed() {
    on_each_engine(|store| async move {
        seed(&store).await;
        insert(&store, [1u8; 32], &token("f1", "u1")).await;
        let mut long_idle = token("f2", "u1");
        long_idle.idle_expires_at = NOW + 1000;
        insert(&store, [2u8; 32], &long_idle).await;
        insert(&store, [3u8; 32], &token("f3", "u1")).await;
        let mut tx = store.begin().await.unwrap();
        tx.revoke_refresh_family("f3", NOW).await.unwrap();
        tx.commit().await.unwrap();

        // Idle: unused for 10 seconds.
        assert!(matches!(
            claim(&store, [1u8; 32], "app", NOW + 10).await,
            RefreshClaim::Unknown
        ));
        // Absolute: the family ends at NOW + 100 whatever the idle time says.
        assert!(matches!(
            claim(&store, [2u8; 32], "app", NOW + 100).await,
            RefreshClaim::Unknown
        ));
        assert!(matches!(
            claim(&store, [3u8; 32], "app", NOW + 1).await,
            RefreshClaim::Unknown
        ));
        assert!(matches!(
            claim(&store, [9u8; 32], "app", NOW + 1).await,
            RefreshClaim::Unknown
        ));
    })
    .await;
}

/// Two transactions claim the same token at once: one wins, the other sees a replay.
#[tokio::test]
async fn concurrent_claims_have_one_winner() {
    on_each_engine(|store| async move {
        seed(&store).await;
        insert(&store, HASH, &token("f1", "u1")).await;
        let attempt = || async {
            let mut tx = store.begin().await.unwrap();
            let claim = tx.claim_refresh_token(&HASH, "app", NOW + 1).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.commit().await.unwrap();
            claim
        };
        let (a, b) = tokio::join!(attempt(), attempt());
        let wins = [&a, &b]
            .iter()
            .filter(|c| matches!(c, RefreshClaim::Claimed(_)))
            .count();
        assert_eq!(wins, 1, "{a:?} {b:?}");
        let replays = [&a, &b]
            .iter()
            .filter(|c| matches!(c, RefreshClaim::Replayed { .. }))
            .count();
        assert_eq!(replays, 1, "{a:?} {b:?}");
    })
    .await;
}

#[tokio::test]
async fn revoking_a_family_takes_its_access_tokens_and_nothing_else() {
    on_each_engine(|store| async move {
        seed(&store).await;
        insert(&store, [1u8; 32], &token("f1", "u1")).await;
        insert(&store, [2u8; 32], &token("f1", "u1")).await;
        insert(&store, [3u8; 32], &token("f2", "u1")).await;
        insert_access(&store, "a1", "u1", Some("f1")).await;
        insert_access(&store, "a2", "u1", Some("f2")).await;
        insert_access(&store, "a3", "u1", None).await;

        let mut tx = store.begin().await.unwrap();
        let revoked = tx.revoke_refresh_family("f1", NOW + 1).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            revoked,
            Revoked {
                refresh_tokens: 2,
                access_tokens: 1
            }
        );
        let revoked_at = |jti: &'static str| {
            let store = store.clone();
            async move { store.access_token(jti).await.unwrap().unwrap().revoked_at }
        };
        assert_eq!(revoked_at("a1").await, Some(NOW + 1));
        assert_eq!(revoked_at("a2").await, None);
        assert_eq!(revoked_at("a3").await, None);
        let other = store.refresh_token(&[3u8; 32]).await.unwrap().unwrap();
        assert!(other.is_live(NOW + 1));
    })
    .await;
}

#[tokio::test]
async fn revoking_a_persons_tokens_spares_everyone_else() {
    on_each_engine(|store| async move {
        seed(&store).await;
        insert(&store, [1u8; 32], &token("f1", "u1")).await;
        insert(&store, [2u8; 32], &token("f2", "u2")).await;
        insert_access(&store, "a1", "u1", Some("f1")).await;
        insert_access(&store, "a2", "u1", None).await;
        insert_access(&store, "b1", "u2", Some("f2")).await;

        let mut tx = store.begin().await.unwrap();
        let revoked = tx.revoke_user_tokens("u1", NOW + 1).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            revoked,
            Revoked {
                refresh_tokens: 1,
                access_tokens: 2
            }
        );
        let bob = store.refresh_token(&[2u8; 32]).await.unwrap().unwrap();
        assert!(bob.is_live(NOW + 1));
        let b1 = store.access_token("b1").await.unwrap().unwrap();
        assert_eq!(b1.revoked_at, None);
    })
    .await;
}

/// Spent tokens are kept until their family ends, so a late reuse is still recognised.
#[tokio::test]
async fn refresh_tokens_are_purged_when_their_family_ends() {
    on_each_engine(|store| async move {
        seed(&store).await;
        insert(&store, HASH, &token("f1", "u1")).await;
        claim(&store, HASH, "app", NOW + 1).await;

        store.purge_expired(NOW + 99).await.unwrap();
        assert!(store.refresh_token(&HASH).await.unwrap().is_some());
        store.purge_expired(NOW + 100).await.unwrap();
        assert!(store.refresh_token(&HASH).await.unwrap().is_none());
    })
    .await;
}
