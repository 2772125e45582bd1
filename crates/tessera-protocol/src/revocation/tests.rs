#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn token_is_required() {
    let params = Params::parse(b"token_type_hint=access_token").unwrap();
    let err = PresentedToken::parse(&params).unwrap_err();
    assert_eq!(err.code, crate::ErrorCode::InvalidRequest);
}

#[test]
fn an_unknown_hint_is_ignored() {
    let params = Params::parse(b"token=abc&token_type_hint=id_token").unwrap();
    let request = PresentedToken::parse(&params).unwrap();
    assert_eq!(request.hint, None);
    assert_eq!(request.token, "abc");
}
