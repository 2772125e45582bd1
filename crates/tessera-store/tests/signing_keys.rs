#![allow(clippy::unwrap_used, clippy::panic)]
//! The signing-key store: the generation guard, retirement and purge, on each engine.

use tessera_store::testing::on_each_engine;
use tessera_store::{SigningKeyRecord, Store, StoreError};

const NOW: i64 = 1_800_000_000;

fn key(kid: &str, alg: &str, generation: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        alg: alg.into(),
        private_key: vec![1, 2, 3],
        public_jwk: "{}".into(),
        created_at: NOW,
        activates_at: NOW,
        retired_at: None,
        generation,
    }
}

async fn insert(store: &Store, record: &SigningKeyRecord) -> Result<(), StoreError> {
    let mut tx = store.begin().await.unwrap();
    tx.insert_signing_key(record).await?;
    tx.commit().await.unwrap();
    Ok(())
}

#[tokio::test]
async fn one_key_per_algorithm_and_generation() {
    on_each_engine(|store| async move {
        insert(&store, &key("k1", "RS256", 1)).await.unwrap();
        insert(&store, &key("k2", "ES256", 1)).await.unwrap();
        let twin = insert(&store, &key("k3", "RS256", 1)).await;
        assert!(matches!(twin, Err(StoreError::Conflict)), "{twin:?}");
        insert(&store, &key("k3", "RS256", 2)).await.unwrap();

        let kids: Vec<String> = store
            .signing_keys()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, ["k2", "k1", "k3"]);
    })
    .await;
}

#[tokio::test]
async fn retiring_moves_no_retirement_later_and_purge_honours_the_cutoff() {
    on_each_engine(|store| async move {
        let mut early = key("early", "ES256", 1);
        early.retired_at = Some(NOW + 10);
        insert(&store, &early).await.unwrap();
        insert(&store, &key("current", "ES256", 2)).await.unwrap();
        insert(&store, &key("next", "ES256", 3)).await.unwrap();
        insert(&store, &key("other", "RS256", 1)).await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let retired = tx
            .retire_signing_keys("ES256", "next", NOW + 3600)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(retired, 1, "only `current`: `early` retires sooner already");

        let retired_at = |keys: &[SigningKeyRecord], kid: &str| {
            keys.iter().find(|k| k.kid == kid).unwrap().retired_at
        };
        let keys = store.signing_keys().await.unwrap();
        assert_eq!(retired_at(&keys, "early"), Some(NOW + 10));
        assert_eq!(retired_at(&keys, "current"), Some(NOW + 3600));
        assert_eq!(retired_at(&keys, "next"), None);
        assert_eq!(retired_at(&keys, "other"), None);

        assert_eq!(store.purge_retired_signing_keys(NOW + 9).await.unwrap(), 0);
        assert_eq!(store.purge_retired_signing_keys(NOW + 10).await.unwrap(), 1);
        assert_eq!(store.signing_keys().await.unwrap().len(), 3);
    })
    .await;
}

/// Migration 0003 on a database that several instances started at once before it existed:
/// twin keys of one algorithm get generations in creation order, and the older twin is
/// retired when the newer one was created.
#[tokio::test]
async fn migration_0003_numbers_and_retires_twin_keys() {
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
        let mut upto_0002 = Migrator::new(dir).await.unwrap();
        upto_0002.migrations = Cow::Owned(
            upto_0002
                .migrations
                .iter()
                .filter(|m| m.version <= 2)
                .cloned()
                .collect(),
        );

        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        upto_0002.run(&pool).await.unwrap();
        for (kid, alg, created_at) in [
            ("rs-b", "RS256", NOW + 1),
            ("rs-a", "RS256", NOW),
            ("es-a", "ES256", NOW),
        ] {
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at) \
                 VALUES ($1, $2, $3, '{}', $4)",
            )
            .bind(kid)
            .bind(alg)
            .bind(vec![0u8])
            .bind(created_at)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;

        let store = db.store().await;
        let keys = store.signing_keys().await.unwrap();
        let find = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap();
        assert_eq!(find("rs-a").generation, 1);
        assert_eq!(find("rs-b").generation, 2);
        assert_eq!(find("es-a").generation, 1);
        assert_eq!(find("rs-a").retired_at, Some(NOW + 1));
        assert_eq!(find("rs-b").retired_at, None);
        assert_eq!(find("es-a").retired_at, None);
        store.close().await;
        db.drop_database().await;
    }
}
