#![allow(clippy::unwrap_used, clippy::panic)]
//! Throttle counters in the store: a charge is a compare-and-swap, so of two requests that
//! read the same counter only one charges it, on both engines.

use tessera_store::testing::on_each_engine;
use tessera_store::ThrottleCounter;

const NOW: i64 = 1_800_000_000;
const SUBJECT: [u8; 32] = [7; 32];

fn counter(failures: i64, last_at: i64) -> ThrottleCounter {
    ThrottleCounter { failures, last_at }
}

#[tokio::test]
async fn a_charge_succeeds_only_on_the_counter_it_read() {
    on_each_engine(|store| async move {
        assert_eq!(
            store.throttle_counter("password", &SUBJECT).await.unwrap(),
            None
        );

        // Two requests saw no counter: the first creates it, the second must read again.
        assert!(store
            .charge_throttle("password", &SUBJECT, None, counter(1, NOW))
            .await
            .unwrap());
        assert!(!store
            .charge_throttle("password", &SUBJECT, None, counter(1, NOW))
            .await
            .unwrap());

        // Two requests saw (1, NOW): the first charges it, the second finds it changed.
        let seen = Some(counter(1, NOW));
        assert!(store
            .charge_throttle("password", &SUBJECT, seen, counter(2, NOW + 1))
            .await
            .unwrap());
        assert!(!store
            .charge_throttle("password", &SUBJECT, seen, counter(2, NOW + 1))
            .await
            .unwrap());
        let stored = store.throttle_counter("password", &SUBJECT).await.unwrap();
        assert_eq!(stored, Some(counter(2, NOW + 1)));

        // Kinds are apart: the same subject digest has no address counter.
        assert_eq!(
            store.throttle_counter("address", &SUBJECT).await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn refunds_stop_at_zero_and_clearing_forgets() {
    on_each_engine(|store| async move {
        store
            .charge_throttle("client", &SUBJECT, None, counter(1, NOW))
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.refund_throttle("client", &SUBJECT).await.unwrap();
        tx.refund_throttle("client", &SUBJECT).await.unwrap();
        tx.commit().await.unwrap();
        let stored = store.throttle_counter("client", &SUBJECT).await.unwrap();
        assert_eq!(stored, Some(counter(0, NOW)));

        let mut tx = store.begin().await.unwrap();
        assert!(tx.clear_throttle("client", &SUBJECT).await.unwrap());
        assert!(!tx.clear_throttle("client", &SUBJECT).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(
            store.throttle_counter("client", &SUBJECT).await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn the_purge_removes_counters_quiet_since_the_cutoff() {
    on_each_engine(|store| async move {
        for (subject, last_at) in [([1; 32], NOW - 10), ([2; 32], NOW)] {
            store
                .charge_throttle("address", &subject, None, counter(3, last_at))
                .await
                .unwrap();
        }
        assert_eq!(store.purge_throttle_counters(NOW - 10).await.unwrap(), 1);
        assert_eq!(
            store.throttle_counter("address", &[1; 32]).await.unwrap(),
            None
        );
        assert!(store
            .throttle_counter("address", &[2; 32])
            .await
            .unwrap()
            .is_some());
    })
    .await;
}
