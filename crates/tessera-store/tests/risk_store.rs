#![allow(clippy::unwrap_used, clippy::panic)]
//! Forgetting risk history, on SQLite and (when configured) PostgreSQL alike.

use tessera_store::testing::on_each_engine;
use tessera_store::{LoginLesson, NewUser, Store};

/// A fixed clock, and the cutoff of a 400-day history at it: 1 800 000 000 less
/// 400 × 86 400 = 34 560 000 seconds.
const NOW: i64 = 1_800_000_000;
const CUTOFF: i64 = 1_765_440_000;

async fn seed_user(store: &Store, id: &str) {
    let mut tx = store.begin().await.unwrap();
    let user = NewUser {
        id,
        username: id,
        username_key: id,
        email: None,
        display_name: None,
        password_hash: None,
    };
    tx.insert_user(&user, NOW - 1000 * 86_400).await.unwrap();
    tx.commit().await.unwrap();
}

/// A successful login of `user_id` from `network` in `country` at `at`.
async fn login(store: &Store, user_id: &str, network: &str, country: &str, at: i64) {
    let lesson = LoginLesson {
        network: Some(network),
        country: Some(country),
        place: None,
        hour: 8,
    };
    let mut tx = store.begin().await.unwrap();
    tx.learn_login(user_id, &lesson, at).await.unwrap();
    tx.commit().await.unwrap();
}

/// A network or country last seen at the cutoff goes; one seen a second later stays, and so
/// does a row first seen long ago but seen again since.
#[tokio::test]
async fn history_at_or_before_the_cutoff_is_forgotten() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        login(&store, "u1", "192.0.2.0/24", "FR", CUTOFF).await;
        login(&store, "u1", "198.51.100.0/24", "AU", CUTOFF + 1).await;
        login(&store, "u1", "203.0.113.0/24", "GB", CUTOFF - 86_400).await;
        login(&store, "u1", "203.0.113.0/24", "GB", NOW).await;

        assert_eq!(store.purge_risk_history(CUTOFF, 1000).await.unwrap(), 2);
        assert!(!store.network_seen("u1", "192.0.2.0/24").await.unwrap());
        assert!(!store.country_seen("u1", "FR").await.unwrap());
        assert!(store.network_seen("u1", "198.51.100.0/24").await.unwrap());
        assert!(store.country_seen("u1", "AU").await.unwrap());
        assert!(store.network_seen("u1", "203.0.113.0/24").await.unwrap());
        assert!(store.country_seen("u1", "GB").await.unwrap());
        // The baseline stays: the person is no first-timer again.
        assert!(store.risk_history("u1").await.unwrap().is_some());

        assert_eq!(store.purge_risk_history(CUTOFF, 1000).await.unwrap(), 0);
    })
    .await;
}

/// Batches smaller than what is due follow each other until nothing old is left, across
/// people; nobody's recent history is touched.
#[tokio::test]
async fn history_is_forgotten_in_batches_until_none_is_due() {
    on_each_engine(|store| async move {
        for user in ["u1", "u2"] {
            seed_user(&store, user).await;
            for (i, country) in ["FR", "AU", "GB"].iter().enumerate() {
                let network = format!("192.0.{i}.0/24");
                let at = CUTOFF - 10 * i64::try_from(i).unwrap();
                login(&store, user, &network, country, at).await;
            }
        }
        seed_user(&store, "u3").await;
        login(&store, "u3", "192.0.0.0/24", "FR", NOW).await;

        // Six networks and six countries, two at a time.
        assert_eq!(store.purge_risk_history(CUTOFF, 2).await.unwrap(), 12);
        for user in ["u1", "u2"] {
            assert!(!store.network_seen(user, "192.0.0.0/24").await.unwrap());
            assert!(!store.country_seen(user, "GB").await.unwrap());
        }
        assert!(store.network_seen("u3", "192.0.0.0/24").await.unwrap());
        assert!(store.country_seen("u3", "FR").await.unwrap());
    })
    .await;
}
