#![allow(clippy::unwrap_used, clippy::panic)]
//! What the account page needs from the store: interactions that say what they are for, a
//! password hash replaced only if it is still the one verified, the end of every session
//! but one, and the removal of an authenticator alone.

use tessera_store::testing::on_each_engine;
use tessera_store::{Interaction, NewUser, Session, Store};

const NOW: i64 = 1_800_000_000;
const OLD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b2xk";
const NEW_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3";

async fn seed_user(store: &Store, id: &str) {
    let mut tx = store.begin().await.unwrap();
    let user = NewUser {
        id,
        username: id,
        username_key: id,
        email: None,
        display_name: None,
        password_hash: Some(OLD_HASH),
    };
    tx.insert_user(&user, NOW).await.unwrap();
    tx.commit().await.unwrap();
}

fn session(user_id: &str) -> Session {
    Session {
        user_id: user_id.into(),
        auth_time: NOW,
        amr: "pwd".into(),
        sid: None,
        expires_at: NOW + 3600,
        risk: None,
    }
}

#[tokio::test]
async fn an_interaction_keeps_its_purpose() {
    on_each_engine(|store| async move {
        let interaction = Interaction {
            purpose: "account".into(),
            request: "{}".into(),
            authenticated_at: None,
            expires_at: NOW + 600,
            pending_user_id: None,
            password_verified_at: None,
            step_up_session: None,
            risk: None,
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_interaction(&[1u8; 32], &interaction, NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let found = store.interaction(&[1u8; 32], NOW).await.unwrap().unwrap();
        assert_eq!(found.purpose, "account");
    })
    .await;
}

/// Of two changes checked against the same hash, only the first replaces it.
#[tokio::test]
async fn a_password_hash_is_replaced_only_while_it_is_the_one_verified() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .replace_password_hash("u1", OLD_HASH, NEW_HASH, NOW + 1)
            .await
            .unwrap());
        assert!(!tx
            .replace_password_hash("u1", OLD_HASH, "$argon2id$other", NOW + 2)
            .await
            .unwrap());
        tx.commit().await.unwrap();

        let user = store.user_by_id("u1").await.unwrap().unwrap();
        assert_eq!(user.password_hash.as_deref(), Some(NEW_HASH));
        assert_eq!(user.updated_at, NOW + 1);
    })
    .await;
}

/// Every session of the person but the kept one ends; nobody else's does.
#[tokio::test]
async fn other_sessions_end_and_the_kept_one_and_other_peoples_stay() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        seed_user(&store, "u2").await;
        let mut tx = store.begin().await.unwrap();
        for (hash, user) in [([1u8; 32], "u1"), ([2u8; 32], "u1"), ([3u8; 32], "u2")] {
            tx.insert_session(&hash, &session(user), NOW).await.unwrap();
        }
        assert_eq!(tx.delete_other_sessions("u1", &[1u8; 32]).await.unwrap(), 1);
        tx.commit().await.unwrap();

        assert!(store.session(&[1u8; 32], NOW).await.unwrap().is_some());
        assert!(store.session(&[2u8; 32], NOW).await.unwrap().is_none());
        assert!(store.session(&[3u8; 32], NOW).await.unwrap().is_some());
    })
    .await;
}

/// Removing the authenticator leaves the recovery codes to the caller.
#[tokio::test]
async fn an_authenticator_is_removed_alone() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        tx.begin_totp_enrolment("u1", b"sealed", &[9u8; 32], NOW)
            .await
            .unwrap();
        tx.replace_recovery_codes("u1", &[[7u8; 32]], NOW)
            .await
            .unwrap();
        assert!(tx.delete_totp_factor("u1").await.unwrap());
        assert!(!tx.delete_totp_factor("u1").await.unwrap());
        tx.commit().await.unwrap();

        assert!(store.totp_factor("u1").await.unwrap().is_none());
        assert_eq!(store.unused_recovery_codes("u1").await.unwrap(), 1);
    })
    .await;
}

/// Migration 0008 on a database with interactions in flight: every one of them was an
/// authorization request, and reads as one.
#[tokio::test]
async fn migration_0008_reads_earlier_interactions_as_authorization_requests() {
    use std::borrow::Cow;
    use std::path::Path;

    use sqlx::migrate::Migrator;
    use tessera_store::testing::{engines, TestDatabase};
    use tessera_store::Engine;

    for engine in engines() {
        let db = TestDatabase::create(engine).await;
        let folder = match engine {
            Engine::Postgres => "postgres",
            Engine::Sqlite => "sqlite",
        };
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations")
            .join(folder);
        let mut before_0008 = Migrator::new(dir).await.unwrap();
        before_0008.migrations = Cow::Owned(
            before_0008
                .migrations
                .iter()
                .filter(|m| m.version < 8)
                .cloned()
                .collect(),
        );

        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        before_0008.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO interactions (id_hash, request, created_at, expires_at) \
             VALUES ($1, '{}', $2, $3)",
        )
        .bind(vec![4u8; 32])
        .bind(NOW)
        .bind(NOW + 600)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = db.store().await;
        let found = store.interaction(&[4u8; 32], NOW).await.unwrap().unwrap();
        assert_eq!(found.purpose, "authorization");
        store.close().await;
        db.drop_database().await;
    }
}
