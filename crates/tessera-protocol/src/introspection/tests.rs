#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn inactive_says_nothing_else() {
    let json = serde_json::to_string(&IntrospectionResponse::inactive()).unwrap();
    assert_eq!(json, r#"{"active":false}"#);
}
