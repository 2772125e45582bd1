#![allow(clippy::unwrap_used, clippy::panic)]
//! The store's part in private_key_jwt and logout, on SQLite and (when configured)
//! PostgreSQL alike.

use tessera_store::testing::on_each_engine;

const NOW: i64 = 1_800_000_000;

#[tokio::test]
async fn an_assertion_jti_is_accepted_once_even_when_raced() {
    on_each_engine(|store| async move {
        // RFC 7523 §3, item 7: the same jti twice is a replay, whoever asks first.
        let (a, b) = tokio::join!(
            store.record_assertion_jti("app", "jti-1", NOW + 60, NOW),
            store.record_assertion_jti("app", "jti-1", NOW + 60, NOW),
        );
        let accepted = [a.unwrap(), b.unwrap()];
        assert_eq!(accepted.iter().filter(|ok| **ok).count(), 1, "{accepted:?}");

        // Another client may use the same jti: the pair is what must be unique.
        assert!(store
            .record_assertion_jti("other", "jti-1", NOW + 60, NOW)
            .await
            .unwrap());

        // Once expired, the record no longer blocks (the expired assertion was refused).
        assert!(store
            .record_assertion_jti("app", "jti-1", NOW + 200, NOW + 61)
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_logout_delivery_is_claimed_by_one_instance_only() {
    on_each_engine(|store| async move {
        let mut tx = store.begin().await.unwrap();
        tx.enqueue_logout_delivery("app", "header.payload.signature", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let due = store.due_logout_deliveries(NOW, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        let delivery = &due[0];
        assert_eq!(delivery.uri, None, "no such client, so no URI");

        // Two instances read the same row; only the first conditional update wins.
        assert!(store
            .claim_logout_delivery(delivery, NOW + 60)
            .await
            .unwrap());
        assert!(!store
            .claim_logout_delivery(delivery, NOW + 60)
            .await
            .unwrap());
        assert!(store
            .due_logout_deliveries(NOW, 10)
            .await
            .unwrap()
            .is_empty());

        store
            .mark_logout_delivered(delivery.id, 1, NOW)
            .await
            .unwrap();
        assert!(store
            .due_logout_deliveries(NOW + 120, 10)
            .await
            .unwrap()
            .is_empty());

        let retention = tessera_store::LOGOUT_DELIVERY_RETENTION;
        assert_eq!(
            store.purge_logout_records(NOW + retention).await.unwrap(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn session_clients_are_remembered_once_and_forgotten() {
    on_each_engine(|store| async move {
        let mut tx = store.begin().await.unwrap();
        tx.remember_session_client("sid-1", "app", NOW + 100)
            .await
            .unwrap();
        tx.remember_session_client("sid-1", "app", NOW + 100)
            .await
            .unwrap();
        tx.remember_session_client("sid-1", "other", NOW + 100)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut clients = store.session_clients("sid-1").await.unwrap();
        clients.sort();
        assert_eq!(clients, ["app", "other"]);

        let mut tx = store.begin().await.unwrap();
        tx.forget_session_clients("sid-1").await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.session_clients("sid-1").await.unwrap().is_empty());
    })
    .await;
}
