use tessera_protocol::authorize::ClientPolicy;
use tessera_protocol::params::Params;
use tessera_protocol::scope::Scope;
use tessera_protocol::types::{ClientId, RedirectUri};

use super::*;

fn request() -> AuthorizationRequest {
    let params = Params::parse(b"response_type=code&scope=openid&login_hint=alice").unwrap();
    let allowed = Scope::parse("openid").unwrap();
    AuthorizationRequest::validate(
        &params,
        ClientId::new("app"),
        RedirectUri::from_registered("https://app.example/cb".into()),
        &ClientPolicy {
            is_public: false,
            allowed_scope: &allowed,
        },
    )
    .unwrap()
}

#[test]
fn an_authorization_request_is_stored_under_its_purpose_and_read_back() {
    let (name, json) = Purpose::Authorization(request()).to_stored().unwrap();
    assert_eq!(name, "authorization");
    let Purpose::Authorization(read) = Purpose::from_stored(name, &json).unwrap() else {
        panic!("read back as another purpose");
    };
    assert_eq!(read.client_id.as_str(), "app");
}

#[test]
fn an_account_login_names_no_client_and_keeps_its_hint() {
    let login = AccountLogin {
        login_hint: Some("alice".into()),
    };
    let (name, json) = Purpose::Account(login).to_stored().unwrap();
    assert_eq!(name, "account");
    let read = Purpose::from_stored(name, &json).unwrap();
    assert!(matches!(read, Purpose::Account(_)));
    assert_eq!(read.client_id(), None);
    assert_eq!(read.login_hint().as_deref(), Some("alice"));
}

/// The purpose column alone decides: an unknown one is a corrupt row, and an authorization
/// request stored as an account login does not read as one.
#[test]
fn an_unknown_or_mismatched_purpose_is_corrupt() {
    let (_, json) = Purpose::Authorization(request()).to_stored().unwrap();
    for purpose in ["", "Authorization", "consent"] {
        assert!(matches!(
            Purpose::from_stored(purpose, &json),
            Err(ProviderError::CorruptInteraction)
        ));
    }
    assert!(matches!(
        Purpose::from_stored("account", &json),
        Err(ProviderError::CorruptInteraction)
    ));
    assert!(matches!(
        Purpose::from_stored("authorization", "{}"),
        Err(ProviderError::CorruptInteraction)
    ));
}
