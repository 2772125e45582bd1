use super::*;
use crate::ErrorCode;

#[test]
fn duplicated_parameter_is_refused() {
    let err = Params::parse(b"client_id=a&scope=openid&client_id=b").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert_eq!(
        err.description,
        "parameter client_id was sent more than once"
    );
}

#[test]
fn empty_value_is_treated_as_omitted() {
    let params = Params::parse(b"state=&scope=openid").unwrap();
    assert_eq!(params.get("state"), None);
    assert_eq!(params.get("scope"), Some("openid"));
}

#[test]
fn percent_encoded_invalid_utf8_is_refused() {
    let err = Params::parse(b"state=%FF%FE").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn raw_invalid_utf8_is_refused() {
    let err = Params::parse(b"state=\xff").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn plus_decodes_to_space() {
    let params = Params::parse(b"scope=openid+email").unwrap();
    assert_eq!(params.get("scope"), Some("openid email"));
}

#[test]
fn repeats_are_set_aside_when_kept_for_later() {
    let params = Params::parse_keeping_repeats(b"state=a&client_id=c&state=b&state=c").unwrap();
    assert_eq!(params.repeated(), Some("state"));
    assert!(params.is_repeated("state"));
    assert_eq!(
        params.get("state"),
        None,
        "no value of a repeated parameter is trusted"
    );
    assert_eq!(params.get("client_id"), Some("c"));
}

#[test]
fn a_replacement_character_sent_on_purpose_is_kept() {
    // U+FFFD is valid UTF-8 (EF BF BD); only broken escapes are refused.
    let params = Params::parse(b"state=%EF%BF%BD").unwrap();
    assert_eq!(params.get("state"), Some("\u{FFFD}"));
}

#[test]
fn an_escaped_plus_stays_a_plus() {
    let params = Params::parse(b"a=1%2B1+2&b&=c").unwrap();
    assert_eq!(params.get("a"), Some("1+1 2"));
    assert_eq!(params.get("b"), None);
}
