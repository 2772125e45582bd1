#![allow(clippy::unwrap_used)]

use tessera_store::StoredAuditEvent;

use super::*;

fn sealed(detail: &str) -> SealedAuditEvent {
    SealedAuditEvent {
        seq: 3,
        prev: "ab".repeat(32),
        hash: "cd".repeat(32),
        event: StoredAuditEvent {
            id: 9,
            occurred_at: 1_700_000_000,
            event_type: "token.refresh_token".into(),
            outcome: "success".into(),
            user_id: Some("u1".into()),
            client_id: Some("app".into()),
            source_ip: None,
            user_agent: None,
            request_id: Some("r-1".into()),
            detail: detail.into(),
            device_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
            session_id: Some("5d41402abc4b2a76b9719d911017c592".into()),
            risk_score: Some(35),
            risk_reasons: Some(r#"["new_device","new_network"]"#.into()),
        },
    }
}

#[test]
fn a_line_holds_every_column_and_both_hashes() {
    let line: Value = serde_json::from_str(&json_line(&sealed(r#"{"family":"f"}"#))).unwrap();
    let expected = json!({
        "seq": 3, "id": 9, "occurred_at": 1_700_000_000,
        "event_type": "token.refresh_token", "outcome": "success",
        "user_id": "u1", "client_id": "app", "source_ip": null, "user_agent": null,
        "request_id": "r-1", "detail": {"family": "f"},
        "device_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "session_id": "5d41402abc4b2a76b9719d911017c592",
        "risk_score": 35, "risk_reasons": ["new_device", "new_network"],
        "prev": "ab".repeat(32), "hash": "cd".repeat(32),
    });
    assert_eq!(line, expected);
}

#[test]
fn a_detail_that_is_not_json_is_exported_as_text() {
    let line: Value = serde_json::from_str(&json_line(&sealed("not json"))).unwrap();
    assert_eq!(line["detail"], "not json");
}

#[test]
fn a_file_resumes_after_its_last_complete_line() {
    let seq = |tail: &[u8]| last_position(tail).map(|p| p.seq);
    let tail = b"{\"seq\":1}\n{\"seq\":2,\"hash\":\"ab\"}\n{\"seq\":3,\"id";
    assert_eq!(seq(tail), Some(2));
    assert_eq!(last_position(tail).unwrap().hash.as_deref(), Some("ab"));
    assert_eq!(seq(b"{\"seq\":7}\n"), Some(7));
    assert_eq!(last_position(b"{\"seq\":7}\n").unwrap().hash, None);
    assert_eq!(seq(b""), None);
}

#[tokio::test]
async fn a_line_cut_short_is_ended_before_the_next() {
    let dir = std::env::temp_dir().join(format!("tessera-export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    std::fs::write(&path, "{\"seq\":1}\n{\"seq\":2,\"id").unwrap();

    let (mut file, after) = open_file(&path).await.unwrap();
    file.write_all(b"{\"seq\":2}\n").await.unwrap();
    file.flush().await.unwrap();

    assert_eq!(after.map(|p| p.seq), Some(1));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "{\"seq\":1}\n{\"seq\":2,\"id\n{\"seq\":2}\n");
    std::fs::remove_dir_all(&dir).unwrap();
}
