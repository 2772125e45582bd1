#![allow(clippy::unwrap_used, clippy::panic)]
//! The audit query behind `GET /admin/v1/audit-events`: each filter narrows the answer, the
//! newest event comes first, and `before_id` continues where a page ended.

use serde_json::json;
use tessera_store::testing::on_each_engine;
use tessera_store::{AuditEvent, AuditFilter, Outcome, Store};

/// Records six events at times 100..=105, alternating people, clients, types and outcomes.
async fn seed(store: &Store) {
    let rows: [(&'static str, Outcome, &str, &str); 6] = [
        ("login.password", Outcome::Success, "u1", "c1"),
        ("login.password", Outcome::Failure, "u2", "c1"),
        ("token.refresh", Outcome::Success, "u1", "c2"),
        ("login.password", Outcome::Success, "u2", "c2"),
        ("token.refresh", Outcome::Failure, "u1", "c1"),
        ("login.password", Outcome::Success, "u1", "c2"),
    ];
    for (at, (event_type, outcome, user, client)) in (100..).zip(rows) {
        let event = AuditEvent {
            occurred_at: at,
            event_type,
            outcome,
            user_id: Some(user.into()),
            client_id: Some(client.into()),
            source_ip: Some("192.0.2.1".into()),
            user_agent: Some("agent".into()),
            request_id: Some(format!("r{at}")),
            detail: json!({ "n": at }),
            device_id: Some(format!("d{at}")),
            session_id: Some(format!("s{at}")),
            risk_score: Some(at - 100),
            risk_reasons: Some(r#"["new_network"]"#.into()),
        };
        store.record(&event).await.unwrap();
    }
}

async fn times(store: &Store, filter: AuditFilter<'_>, limit: i64) -> Vec<i64> {
    let events = store.audit_events(&filter, limit).await.unwrap();
    events.iter().map(|e| e.occurred_at).collect()
}

#[tokio::test]
async fn each_filter_narrows_the_answer_newest_first() {
    on_each_engine(|store| async move {
        seed(&store).await;
        let all = times(&store, AuditFilter::default(), 50).await;
        assert_eq!(all, [105, 104, 103, 102, 101, 100]);

        let user = AuditFilter {
            user_id: Some("u2"),
            ..AuditFilter::default()
        };
        assert_eq!(times(&store, user, 50).await, [103, 101]);
        let client = AuditFilter {
            client_id: Some("c2"),
            ..AuditFilter::default()
        };
        assert_eq!(times(&store, client, 50).await, [105, 103, 102]);
        let kind = AuditFilter {
            event_type: Some("token.refresh"),
            ..AuditFilter::default()
        };
        assert_eq!(times(&store, kind, 50).await, [104, 102]);
        let failures = AuditFilter {
            outcome: Some(Outcome::Failure),
            ..AuditFilter::default()
        };
        assert_eq!(times(&store, failures, 50).await, [104, 101]);
        let window = AuditFilter {
            since: Some(101),
            until: Some(104),
            ..AuditFilter::default()
        };
        assert_eq!(times(&store, window, 50).await, [103, 102, 101]);
        let together = AuditFilter {
            user_id: Some("u1"),
            event_type: Some("login.password"),
            outcome: Some(Outcome::Success),
            since: Some(101),
            ..AuditFilter::default()
        };
        assert_eq!(times(&store, together, 50).await, [105]);
    })
    .await;
}

#[tokio::test]
async fn pages_continue_before_the_last_id_and_keep_every_column() {
    on_each_engine(|store| async move {
        seed(&store).await;
        let first = store
            .audit_events(&AuditFilter::default(), 4)
            .await
            .unwrap();
        assert_eq!(first.len(), 4);
        let last = first.last().unwrap();
        let rest = AuditFilter {
            before_id: Some(last.id),
            ..AuditFilter::default()
        };
        assert_eq!(times(&store, rest, 4).await, [101, 100]);

        let newest = &first[0];
        assert_eq!(newest.event_type, "login.password");
        assert_eq!(newest.outcome, "success");
        assert_eq!(newest.user_id.as_deref(), Some("u1"));
        assert_eq!(newest.client_id.as_deref(), Some("c2"));
        assert_eq!(newest.source_ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(newest.user_agent.as_deref(), Some("agent"));
        assert_eq!(newest.request_id.as_deref(), Some("r105"));
        assert_eq!(newest.detail, r#"{"n":105}"#);
        assert_eq!(newest.device_id.as_deref(), Some("d105"));
        assert_eq!(newest.session_id.as_deref(), Some("s105"));
        assert_eq!(newest.risk_score, Some(5));
        assert_eq!(newest.risk_reasons.as_deref(), Some(r#"["new_network"]"#));
    })
    .await;
}
