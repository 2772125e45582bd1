use std::borrow::Cow;

use super::{cursor_after, AuditEventQuery, AuditOutcome};

fn parse(query: &str) -> Result<AuditEventQuery, Vec<(String, String)>> {
    let pairs = url::form_urlencoded::parse(query.as_bytes());
    AuditEventQuery::parse(pairs)
        .map_err(|errors| errors.into_iter().map(|e| (e.field, e.message)).collect())
}

fn fields(query: &str) -> Vec<String> {
    parse(query)
        .unwrap_err()
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

#[test]
fn no_parameters_ask_for_the_newest_fifty() {
    let query = parse("").unwrap();
    assert_eq!(query.limit, 50);
    assert_eq!(
        query,
        AuditEventQuery {
            limit: 50,
            ..AuditEventQuery::default()
        }
    );
}

#[test]
fn every_filter_is_read() {
    let cursor = cursor_after(41);
    let query = parse(&format!(
        "user_id=u1&client_id=c1&type=admin.key.rotate&outcome=failure&since=10&until=20\
         &cursor={cursor}&limit=200"
    ))
    .unwrap();
    assert_eq!(query.user_id.as_deref(), Some("u1"));
    assert_eq!(query.client_id.as_deref(), Some("c1"));
    assert_eq!(query.event_type.as_deref(), Some("admin.key.rotate"));
    assert_eq!(query.outcome, Some(AuditOutcome::Failure));
    assert_eq!(query.since, Some(10));
    assert_eq!(query.until, Some(20));
    assert_eq!(query.before_id, Some(41));
    assert_eq!(query.limit, 200);
}

#[test]
fn every_offending_parameter_is_named() {
    assert_eq!(
        fields("limit=0&outcome=maybe&since=-1&until=x&cursor=abc&user_id=&colour=red"),
        ["limit", "outcome", "since", "until", "cursor", "user_id", "colour"]
    );
    assert_eq!(fields("limit=201"), ["limit"]);
    assert_eq!(fields("type=a%00b"), ["type"]);
    assert_eq!(
        fields(&format!("client_id={}", "c".repeat(256))),
        ["client_id"]
    );
}

#[test]
fn a_repeated_parameter_is_refused() {
    assert_eq!(fields("outcome=success&outcome=failure"), ["outcome"]);
}

#[test]
fn until_before_since_is_refused() {
    assert_eq!(fields("since=20&until=19"), ["until"]);
    assert!(parse("since=20&until=20").is_ok());
}

#[test]
fn a_cursor_is_opaque_and_names_a_position() {
    assert_eq!(cursor_after(7), "YXVkaXQ6Nw");
    assert_eq!(parse("cursor=YXVkaXQ6Nw").unwrap().before_id, Some(7));
    // "audit:-7" and "audit:" name no position.
    assert_eq!(fields("cursor=YXVkaXQ6LTc"), ["cursor"]);
    assert_eq!(fields("cursor=YXVkaXQ6"), ["cursor"]);
    let pairs = [(Cow::from("cursor"), Cow::from("!!"))];
    assert!(AuditEventQuery::parse(pairs).is_err());
}
