use super::*;

#[test]
fn unknown_grant_type_is_unsupported() {
    let params = Params::parse(b"grant_type=password&username=a").unwrap();
    assert_eq!(
        TokenRequest::parse(&params).unwrap_err().code,
        ErrorCode::UnsupportedGrantType
    );
}

#[test]
fn refresh_requires_the_refresh_token() {
    let params = Params::parse(b"grant_type=refresh_token&scope=openid").unwrap();
    assert_eq!(
        TokenRequest::parse(&params).unwrap_err().code,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn a_malformed_scope_is_invalid_scope() {
    let params = Params::parse(b"grant_type=client_credentials&scope=a%22b").unwrap();
    assert_eq!(
        TokenRequest::parse(&params).unwrap_err().code,
        ErrorCode::InvalidScope
    );
}
