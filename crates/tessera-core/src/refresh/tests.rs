#![allow(clippy::unwrap_used)]
use super::*;

fn client(allowed: &str) -> Client {
    Client {
        id: "app".into(),
        name: "App".into(),
        secret_hash: None,
        redirect_uris: vec![],
        allowed_scope: allowed.into(),
        id_token_alg: "RS256".into(),
        first_party: false,
        grant_types: vec!["authorization_code".into()],
        jwks: None,
        jwks_uri: None,
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        refresh_token_ttl: 100,
        refresh_token_idle_ttl: 10,
        token_endpoint_auth_method: "none".into(),
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

#[test]
fn without_scope_the_grant_is_kept() {
    let granted = "offline_access openid profile";
    let kept = check_scope(None, granted, &client(granted)).unwrap();
    assert_eq!(kept.to_string(), granted);
}

#[test]
fn a_narrower_scope_is_granted() {
    let granted = "offline_access openid profile";
    let narrowed = check_scope(scope("openid"), granted, &client(granted)).unwrap();
    assert_eq!(narrowed.to_string(), "openid");
}

#[test]
fn a_wider_scope_is_invalid_scope_even_when_the_client_may_ask_for_it() {
    let (reason, err) =
        check_scope(scope("openid email"), "openid", &client("openid email")).unwrap_err();
    assert_eq!(reason, "scope_widened");
    assert_eq!(err.code, ErrorCode::InvalidScope);
}

#[test]
fn a_scope_the_client_lost_is_invalid_scope() {
    let (reason, err) = check_scope(None, "openid profile", &client("openid")).unwrap_err();
    assert_eq!(reason, "scope_no_longer_allowed");
    assert_eq!(err.code, ErrorCode::InvalidScope);
}

#[test]
fn offline_access_or_the_registered_grant_offers_refresh() {
    let mut app = client("openid offline_access");
    assert!(!offers_refresh(&app, "openid"));
    assert!(offers_refresh(&app, "openid offline_access"));
    app.grant_types.push("refresh_token".into());
    assert!(offers_refresh(&app, "openid"));
}
