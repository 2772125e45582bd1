use serde::Deserialize;

use super::parse;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    #[serde(default)]
    uris: Vec<String>,
}

fn field_of(raw: &str) -> (String, String) {
    let err = parse::<Body>(raw.as_bytes()).unwrap_err();
    let json = serde_json::to_value(err_problem(err)).unwrap();
    (
        json["errors"][0]["field"].as_str().unwrap().to_string(),
        json["errors"][0]["message"].as_str().unwrap().to_string(),
    )
}

fn err_problem(err: super::ApiError) -> tessera_protocol::admin::Problem {
    err.problem_for_tests()
}

#[test]
fn an_unknown_field_is_refused_and_named() {
    let (field, message) = field_of(r#"{"name":"a","sub":"x"}"#);
    assert_eq!(field, "/sub");
    assert!(message.starts_with("unknown field `sub`"), "{message}");
}

#[test]
fn a_wrong_type_is_named_by_its_pointer() {
    let (field, message) = field_of(r#"{"name":"a","uris":["ok", 3]}"#);
    assert_eq!(field, "/uris/1");
    assert!(
        message.starts_with("invalid type: integer `3`"),
        "{message}"
    );
    assert!(!message.contains("line"), "{message}");
}

#[test]
fn malformed_json_and_trailing_data_are_refused() {
    let (_, message) = field_of(r#"{"name": "#);
    assert_eq!(message, "the body is not well-formed JSON");
    let (_, message) = field_of(r#"{"name":"a"} {}"#);
    assert_eq!(message, "trailing characters after the JSON value");
    let (field, message) = field_of(r#"{}"#);
    assert_eq!(field, "");
    assert_eq!(message, "missing field `name`");
}
