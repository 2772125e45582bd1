use super::*;
use secrecy::ExposeSecret;

use crate::ErrorCode;

#[test]
fn basic_credentials_are_form_urldecoded() {
    // RFC 6749 §2.3.1: id and secret are encoded with application/x-www-form-urlencoded.
    let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret+1"));
    let mut params = Params::default();
    let creds = ClientCredentials::from_request(Some(&header), &mut params).unwrap();
    match creds {
        ClientCredentials::Basic { client_id, secret } => {
            assert_eq!(client_id.as_str(), "my app");
            assert_eq!(secret.expose_secret(), "s:cret 1");
        }
        other => panic!("expected basic credentials, got {other:?}"),
    }
}

#[test]
fn two_authentication_methods_are_refused() {
    let header = format!("Basic {}", STANDARD.encode("app:secret"));
    let mut params = Params::parse(b"client_secret=secret").unwrap();
    let err = ClientCredentials::from_request(Some(&header), &mut params).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn malformed_basic_header_is_invalid_client() {
    let mut params = Params::default();
    let err = ClientCredentials::from_request(Some("Basic !!!"), &mut params).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidClient);
}

#[test]
fn presented_secret_never_appears_in_debug_output() {
    let mut params = Params::parse(b"client_id=app&client_secret=hunter2-secret").unwrap();
    let creds = ClientCredentials::from_request(None, &mut params).unwrap();
    assert!(!format!("{creds:?}").contains("hunter2-secret"));
    assert_eq!(params.get("client_secret"), None);
}

/// `{"alg":"none"}.{"sub":"app"}.` — enough to be parsed; verification is not done here.
const ASSERTION: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhcHAifQ.";

#[test]
fn a_jwt_bearer_assertion_names_its_client_by_subject() {
    let body = format!(
        "client_assertion_type={}&client_assertion={ASSERTION}",
        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
    );
    let mut params = Params::parse(body.as_bytes()).unwrap();
    let creds = ClientCredentials::from_request(None, &mut params).unwrap();
    match &creds {
        ClientCredentials::PrivateKeyJwt {
            client_id,
            assertion,
        } => {
            assert_eq!(client_id.as_str(), "app");
            assert_eq!(assertion.expose_secret(), ASSERTION);
        }
        other => panic!("expected an assertion, got {other:?}"),
    }
    // The assertion is taken out of the parameters and never printed.
    assert_eq!(params.get("client_assertion"), None);
    assert!(!format!("{creds:?}").contains("eyJzdWIi"), "{creds:?}");
}

#[test]
fn an_unknown_assertion_type_is_invalid_client() {
    let body = format!("client_assertion_type=urn%3Aexample&client_assertion={ASSERTION}");
    let mut params = Params::parse(body.as_bytes()).unwrap();
    let err = ClientCredentials::from_request(None, &mut params).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidClient);
}

#[test]
fn an_assertion_with_a_secret_is_two_methods() {
    let body = format!(
        "client_secret=s&client_assertion_type={}&client_assertion={ASSERTION}",
        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
    );
    let mut params = Params::parse(body.as_bytes()).unwrap();
    let err = ClientCredentials::from_request(None, &mut params).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn a_client_id_other_than_the_assertion_subject_is_invalid_client() {
    // RFC 7523 §3, item 2: the subject is the client_id.
    let body = format!(
        "client_id=someone-else&client_assertion_type={}&client_assertion={ASSERTION}",
        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
    );
    let mut params = Params::parse(body.as_bytes()).unwrap();
    let err = ClientCredentials::from_request(None, &mut params).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidClient);
}

/// A client id with a control character, or longer than any Tessera issues, names no client.
#[test]
fn an_implausible_client_id_is_invalid_client() {
    let long = "a".repeat(MAX_CLIENT_ID + 1);
    for id in ["a\u{1}b", long.as_str()] {
        let header = format!("Basic {}", STANDARD.encode(format!("{id}:secret")));
        let err = ClientCredentials::from_request(Some(&header), &mut Params::default())
            .err()
            .unwrap();
        assert_eq!(err.code, ErrorCode::InvalidClient, "{id:?}");

        let mut params = Params::parse(
            format!("client_id={id}&client_secret=x")
                .replace('\u{1}', "%01")
                .as_bytes(),
        )
        .unwrap();
        let err = ClientCredentials::from_request(None, &mut params)
            .err()
            .unwrap();
        assert_eq!(err.code, ErrorCode::InvalidClient, "{id:?}");
    }
}
