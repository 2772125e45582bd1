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
