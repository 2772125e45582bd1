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

#[test]
fn acr_values_keep_the_known_classes_in_order() {
    let query = concat!(
        "response_type=code&scope=openid",
        "&acr_values=phrh%20urn%3Aexample%3Agold%20urn%3Atessera%3Aacr%3Amfa"
    );
    let request = validate(query, false).unwrap();
    assert_eq!(
        request.acr_values,
        [
            crate::acr::Acr::PhishingResistantHardware,
            crate::acr::Acr::MultiFactor
        ]
    );
    let without = validate("response_type=code&scope=openid", false).unwrap();
    assert!(without.acr_values.is_empty());
}

#[test]
fn acr_values_with_control_characters_are_invalid() {
    let err = validate("response_type=code&scope=openid&acr_values=phr%0A", false).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn an_interaction_stored_before_acr_values_existed_still_reads() {
    let stored = r#"{"client_id":"app","redirect_uri":"https://app.example/cb","state":null,
        "scope":"openid","nonce":null,"code_challenge":null,
        "prompt":{"none":false,"login":false,"consent":false},"max_age":null,"login_hint":null}"#;
    let request: AuthorizationRequest = serde_json::from_str(stored).unwrap();
    assert!(request.acr_values.is_empty());
}
