#![allow(clippy::unwrap_used, clippy::panic)]
//! The events of reads (userinfo, introspection) are written in batches by one task: every
//! call's event is recorded exactly once, however many calls arrive together, and the calls
//! of one caller keep their order.

use std::collections::BTreeMap;

use serde_json::json;
use tessera_store::testing::on_each_engine;
use tessera_store::{AuditEvent, Outcome, Store};

fn read_event(n: i64) -> AuditEvent {
    AuditEvent {
        occurred_at: 1_800_000_000 + n,
        event_type: "userinfo",
        outcome: Outcome::Success,
        user_id: Some(format!("u{n}")),
        client_id: Some("c1".into()),
        request_id: Some(format!("r{n}")),
        detail: json!({ "n": n }),
        ..AuditEvent::default()
    }
}

async fn recorded(store: &Store) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for event in store.recent_audit_events(10_000).await.unwrap() {
        *seen.entry(event.request_id.unwrap()).or_insert(0) += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_of_a_crowd_is_recorded_once() {
    on_each_engine(|store| async move {
        let calls: Vec<_> = (0..300)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move { store.record_read(&read_event(n)).await })
            })
            .collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }

        let seen = recorded(&store).await;
        assert_eq!(seen.len(), 300);
        assert!(seen.values().all(|&times| times == 1), "{seen:?}");
        assert!((0..300).all(|n| seen.contains_key(&format!("r{n}"))));
    })
    .await;
}

#[tokio::test]
async fn one_callers_reads_keep_their_order() {
    on_each_engine(|store| async move {
        for n in 1..=5 {
            store.record_read(&read_event(n)).await.unwrap();
        }

        let events = store.recent_audit_events(10).await.unwrap();
        let newest_first: Vec<_> = events
            .iter()
            .map(|e| e.request_id.clone().unwrap())
            .collect();
        assert_eq!(newest_first, ["r5", "r4", "r3", "r2", "r1"]);
        let first = &events[4];
        assert_eq!(
            (first.event_type.as_str(), first.outcome.as_str()),
            ("userinfo", "success")
        );
        assert_eq!(first.user_id.as_deref(), Some("u1"));
        assert_eq!(first.client_id.as_deref(), Some("c1"));
        assert_eq!(first.occurred_at, 1_800_000_001);
        assert_eq!(first.detail, r#"{"n":1}"#);
    })
    .await;
}
