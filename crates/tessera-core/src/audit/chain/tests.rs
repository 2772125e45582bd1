#![allow(clippy::unwrap_used)]

use super::*;

/// The event the expected hashes below were computed for, by a separate implementation of
/// the encoding in the module documentation (Python's `hashlib` and `struct`).
fn event() -> StoredAuditEvent {
    StoredAuditEvent {
        id: 7,
        occurred_at: 1_700_000_000,
        event_type: "login.password".into(),
        outcome: "failure".into(),
        user_id: None,
        client_id: Some("app".into()),
        source_ip: Some("203.0.113.7".into()),
        user_agent: Some("curl/8".into()),
        request_id: None,
        detail: r#"{"reason":"bad_password"}"#.into(),
        device_id: None,
        session_id: None,
        risk_score: None,
        risk_reasons: None,
    }
}

#[test]
fn the_encoding_is_the_documented_one() {
    let expected = "746573736572612e61756469742e763101000000000000000701000000006553f10002\
                    0000000e6c6f67696e2e70617373776f726402000000076661696c75726500020000000361\
                    7070020000000b3230332e302e3131332e3702000000066375726c2f380002000000197b22\
                    726561736f6e223a226261645f70617373776f7264227d";
    assert_eq!(hex(&encode(&event()).unwrap()), expected);
}

/// The later columns, when set, follow `detail` (computed by the same separate
/// implementation); unset, they leave the encoding above as it was.
#[test]
fn the_later_columns_extend_the_encoding_only_when_set() {
    let mut scored = event();
    scored.device_id = Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into());
    scored.risk_score = Some(35);
    scored.risk_reasons = Some(r#"["new_device","new_network"]"#.into());
    let expected = "746573736572612e61756469742e763101000000000000000701000000006553f10002\
                    0000000e6c6f67696e2e70617373776f726402000000076661696c75726500020000000361\
                    7070020000000b3230332e302e3131332e3702000000066375726c2f380002000000197b22\
                    726561736f6e223a226261645f70617373776f7264227d0200000020306631653264336334\
                    6235613639373838373936613562346333643265316630000100000000000000230200000\
                    01c5b226e65775f646576696365222c226e65775f6e6574776f726b225d";
    assert_eq!(hex(&encode(&scored).unwrap()), expected);
    assert_eq!(
        link_hash(GENESIS, &scored).unwrap(),
        "7c5497d9faed5df5c2e1fd87f4d96068728c470e04aa42458938e2c283a03d96"
    );
}

#[test]
fn the_first_event_links_to_the_genesis_hash() {
    assert_eq!(
        link_hash(GENESIS, &event()).unwrap(),
        "662b153a96746e6290a8ec81f8fcff11f9863326b1e87e42900ddd931290493e"
    );
}

#[test]
fn each_event_links_to_the_hash_before_it() {
    let mut second = event();
    second.id = 8;
    second.outcome = "success".into();
    let prev = "662b153a96746e6290a8ec81f8fcff11f9863326b1e87e42900ddd931290493e";
    assert_eq!(
        link_hash(prev, &second).unwrap(),
        "a7f79205c5db7d8bc54d4cab309feed481e65b523bfba0b3b74e14bb237c76ec"
    );
}

#[test]
fn a_null_and_an_empty_text_hash_differently() {
    let mut empty = event();
    empty.user_id = Some(String::new());
    assert_ne!(link_hash(GENESIS, &empty), link_hash(GENESIS, &event()));
}

#[test]
fn text_cannot_slide_from_one_column_into_the_next() {
    let mut a = event();
    a.client_id = Some("ab".into());
    a.source_ip = Some("c".into());
    let mut b = event();
    b.client_id = Some("a".into());
    b.source_ip = Some("bc".into());
    assert_ne!(link_hash(GENESIS, &a), link_hash(GENESIS, &b));
}

#[test]
fn a_previous_hash_that_is_not_64_hex_digits_links_nothing() {
    assert_eq!(link_hash("00", &event()), None);
    assert_eq!(link_hash(&"zz".repeat(32), &event()), None);
}
