#![allow(clippy::unwrap_used)]
use super::*;

fn service(secret: bool, grants: &[&str]) -> Client {
    Client {
        id: "svc".into(),
        name: "Service".into(),
        secret_hash: secret.then(|| vec![7u8; 32]),
        redirect_uris: vec![],
        allowed_scope: "openid api.read api.write".into(),
        id_token_alg: "RS256".into(),
        first_party: false,
        grant_types: grants.iter().map(|g| g.to_string()).collect(),
        jwks: None,
        jwks_uri: None,
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        refresh_token_ttl: 100,
        refresh_token_idle_ttl: 10,
        token_endpoint_auth_method: if secret {
            "client_secret_basic"
        } else {
            "none"
        }
        .into(),
        mfa: "default".into(),
        access_token_ttl: None,
        previous_secret_hash: None,
        previous_secret_expires_at: None,
        version: 1,
        created_at: 0,
        updated_at: None,
    }
}

fn scope(text: &str) -> Option<Scope> {
    Some(Scope::parse(text).unwrap())
}

fn reason(client: &Client, requested: Option<Scope>) -> (&'static str, ErrorCode) {
    let (reason, err) = check_client_credentials(client, requested).unwrap_err();
    (reason, err.code)
}

#[test]
fn a_public_client_is_unauthorized() {
    let client = service(false, &["client_credentials"]);
    let expected = ("public_client", ErrorCode::UnauthorizedClient);
    assert_eq!(reason(&client, None), expected);
}

#[test]
fn an_unregistered_grant_is_unauthorized() {
    let client = service(true, &["authorization_code"]);
    let expected = ("grant_not_registered", ErrorCode::UnauthorizedClient);
    assert_eq!(reason(&client, None), expected);
}

#[test]
fn person_scopes_and_foreign_scopes_are_invalid_scope() {
    let client = service(true, &["client_credentials"]);
    let person = ("person_scope", ErrorCode::InvalidScope);
    assert_eq!(reason(&client, scope("openid")), person);
    let foreign = ("scope_not_allowed", ErrorCode::InvalidScope);
    assert_eq!(reason(&client, scope("api.admin")), foreign);
}

#[test]
fn the_default_scope_is_the_clients_service_scopes() {
    let client = service(true, &["client_credentials"]);
    let granted = check_client_credentials(&client, None).unwrap();
    assert_eq!(granted.to_string(), "api.read api.write");
}

#[test]
fn nothing_to_grant_is_invalid_scope() {
    let mut client = service(true, &["client_credentials"]);
    client.allowed_scope = "openid profile".into();
    assert_eq!(reason(&client, None), ("no_scope", ErrorCode::InvalidScope));
}
