use super::*;

#[test]
fn unknown_grant_type_is_unsupported() {
    let params = Params::parse(b"grant_type=password&username=a").unwrap();
    assert_eq!(
        TokenRequest::parse(&params).unwrap_err().code,
        ErrorCode::UnsupportedGrantType
    );
}
