use super::*;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn validate(query: &str, is_public: bool) -> Result<AuthorizationRequest, OAuthError> {
    let params = Params::parse(query.as_bytes()).unwrap();
    let allowed = Scope::parse("openid profile email").unwrap();
    AuthorizationRequest::validate(
        &params,
        ClientId::new("app"),
        RedirectUri::from_registered("https://app.example/cb".into()),
        &ClientPolicy {
            is_public,
            allowed_scope: &allowed,
        },
    )
}

#[test]
fn accepts_a_complete_code_request() {
    let query = format!(
        "response_type=code&scope=openid%20email&state=s1&nonce=n1&code_challenge={CHALLENGE}\
         &code_challenge_method=S256&prompt=login&max_age=300&login_hint=alice"
    );
    let request = validate(&query, true).unwrap();
    assert_eq!(request.scope.to_string(), "email openid");
    assert_eq!(request.state, Some(State::new("s1")));
    assert_eq!(request.nonce, Some(Nonce::new("n1")));
    assert!(request.prompt.login);
    assert_eq!(request.max_age, Some(300));
}

#[test]
fn public_client_without_pkce_is_refused() {
    let err = validate("response_type=code&scope=openid", true).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(validate("response_type=code&scope=openid", false).is_ok());
}

#[test]
fn token_response_type_is_unsupported() {
    let err = validate("response_type=token&scope=openid", false).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedResponseType);
}

#[test]
fn unknown_scope_is_invalid_scope() {
    let err = validate("response_type=code&scope=openid%20admin", false).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidScope);
}

#[test]
fn prompt_none_with_login_is_refused() {
    let err = validate("response_type=code&scope=openid&prompt=none%20login", false).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn request_objects_are_not_supported() {
    let err = validate("response_type=code&scope=openid&request=eyJ", false).unwrap_err();
    assert_eq!(err.code, ErrorCode::RequestNotSupported);
    let err = validate("response_type=code&scope=openid&request_uri=urn:x", false).unwrap_err();
    assert_eq!(err.code, ErrorCode::RequestUriNotSupported);
}

#[test]
fn negative_max_age_is_refused() {
    let err = validate("response_type=code&scope=openid&max_age=-1", false).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}
