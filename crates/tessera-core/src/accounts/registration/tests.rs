use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use super::*;

/// An RSA public JWK whose modulus is `bytes` long, its top bit set (so exactly
/// `bytes * 8` bits), with `leading_zeros` zero octets in front.
fn rsa_jwks(bytes: usize, leading_zeros: usize) -> String {
    let mut n = vec![0u8; leading_zeros];
    n.push(0x80);
    n.extend(std::iter::repeat_n(0x5a, bytes - 1));
    json!({ "keys": [{ "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB" }] }).to_string()
}

fn key_client(jwks: &str) -> NewClientRequest<'_> {
    NewClientRequest {
        jwks: Some(jwks),
        ..NewClientRequest::default()
    }
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

/// RFC 7518 §3.3: an RSA key for RS256 is 2048 bits or longer.
#[test]
fn an_rsa_key_under_2048_bits_is_refused_at_registration() {
    for bits in [1024, 2040] {
        let jwks = rsa_jwks(bits / 8, 0);
        let err = key_registration(&key_client(&jwks)).unwrap_err();
        assert_eq!(err.field, "/jwks");
        assert!(err.message.contains("2048 bits"), "{bits}: {err:?}");
    }
    for (bytes, zeros) in [(256, 0), (256, 1), (512, 0)] {
        let jwks = rsa_jwks(bytes, zeros);
        assert_eq!(
            key_registration(&key_client(&jwks)).unwrap(),
            methods::PRIVATE_KEY_JWT
        );
    }
}

/// Back-Channel Logout 1.0 §2.2: no fragment; the refusal names the rule broken.
#[test]
fn a_uri_is_refused_for_the_rule_it_breaks() {
    assert_eq!(
        check_secure_uri("https://x/bcl#f"),
        Err(UriRefusal::Fragment)
    );
    assert_eq!(
        check_secure_uri("http://rp.example/bcl"),
        Err(UriRefusal::Scheme)
    );
    assert_eq!(check_secure_uri("/bcl"), Err(UriRefusal::Malformed));
    assert_eq!(check_secure_uri("https://x/bcl"), Ok(()));
    assert_eq!(check_secure_uri("http://127.0.0.1:8080/bcl"), Ok(()));
    assert!(UriRefusal::Fragment.to_string().contains("fragment"));
    assert!(!UriRefusal::Fragment.to_string().contains("https, or"));
}

fn valid<'a>(uris: &'a [String], grants: &'a [String]) -> NewClientRequest<'a> {
    NewClientRequest {
        name: "Web App",
        redirect_uris: uris,
        id_token_alg: "RS256",
        scope: "openid profile",
        grant_types: grants,
        ..NewClientRequest::default()
    }
}

#[test]
fn a_valid_registration_gets_a_method_and_the_default_lifetimes() {
    let uris = ["https://rp.example/cb".to_string()];
    let grants = ["authorization_code".to_string()];
    let registration = validate(&valid(&uris, &grants)).unwrap();
    assert_eq!(registration.auth_method, "client_secret_basic");
    assert_eq!(registration.scope.to_string(), "openid profile");
    assert_eq!(registration.refresh_token_ttl, 2_592_000);
    assert_eq!(registration.refresh_token_idle_ttl, 1_209_600);

    let public = NewClientRequest {
        public: true,
        refresh_token_ttl: Some(3600),
        ..valid(&uris, &grants)
    };
    let registration = validate(&public).unwrap();
    assert_eq!(registration.auth_method, "none");
    // The default idle lifetime is cut to a shorter absolute one.
    assert_eq!(registration.refresh_token_idle_ttl, 3600);
}

/// Every offending field is named at once, by its JSON Pointer.
#[test]
fn every_offending_field_is_named() {
    let uris = [
        "https://rp.example/cb".to_string(),
        "http://rp.example/cb".to_string(),
        "https://rp.example/cb#frag".to_string(),
        "https://rp.example/*".to_string(),
    ];
    let logout = ["myapp:/out".to_string()];
    let grants = [
        "refresh_token".to_string(),
        "implicit".to_string(),
        "client_credentials".to_string(),
    ];
    let request = NewClientRequest {
        name: " ",
        public: true,
        redirect_uris: &uris,
        post_logout_redirect_uris: &logout,
        grant_types: &grants,
        id_token_alg: "HS256",
        scope: "openid admin:everything",
        backchannel_logout_uri: Some("http://rp.example/bcl"),
        refresh_token_ttl: Some(100),
        refresh_token_idle_ttl: Some(200),
        access_token_ttl: Some(0),
        ..NewClientRequest::default()
    };
    let errors = validate(&request).unwrap_err();
    assert_eq!(
        fields(&errors),
        [
            "/name",
            "/grant_types/1",
            "/grant_types/0",
            "/grant_types/2",
            "/redirect_uris/1",
            "/redirect_uris/2",
            "/redirect_uris/3",
            "/post_logout_redirect_uris/0",
            "/backchannel_logout_uri",
            "/id_token_signed_response_alg",
            "/scope",
            "/refresh_token_idle_ttl",
            "/access_token_ttl",
        ]
    );
    assert!(errors[1].message.contains("unknown grant type"));
    assert!(errors[2].message.contains("RFC 6749 §1.5"));
    assert!(errors[3].message.contains("RFC 6749 §4.4"));
    assert!(errors[4].message.contains("RFC 8252 §7.3"));
    assert!(errors[5].message.contains("fragment"));
    assert!(errors[6].message.contains("wildcard"));
    assert!(errors[7].message.contains("RFC 8252 §7.1"));
    assert!(errors[10].message.contains("admin:everything"));
}

/// RFC 8252 §7.1 and §7.3: a native app registers a reverse-DNS private-use scheme or a
/// loopback address, IPv4 or IPv6, or `localhost`.
#[test]
fn native_app_redirect_uris_are_accepted() {
    let uris = [
        "com.example.app:/oauth2redirect".to_string(),
        "http://127.0.0.1/cb".to_string(),
        "http://[::1]:8080/cb".to_string(),
        "http://localhost:3000/cb".to_string(),
    ];
    let grants = ["authorization_code".to_string()];
    let request = NewClientRequest {
        public: true,
        ..valid(&uris, &grants)
    };
    assert!(validate(&request).is_ok());
}

#[test]
fn codes_need_a_redirect_uri_and_keys_need_a_confidential_client() {
    let grants = ["authorization_code".to_string()];
    let jwks = rsa_jwks(256, 0);
    let request = NewClientRequest {
        public: true,
        jwks: Some(&jwks),
        ..valid(&[], &grants)
    };
    let errors = validate(&request).unwrap_err();
    assert_eq!(fields(&errors), ["/redirect_uris", "/jwks"]);

    let service = ["client_credentials".to_string()];
    let request = NewClientRequest {
        jwks: Some(&jwks),
        jwks_uri: Some("https://rp.example/jwks"),
        ..valid(&[], &service)
    };
    assert_eq!(fields(&validate(&request).unwrap_err()), ["/jwks_uri"]);

    let request = NewClientRequest {
        refresh_token_ttl: Some(-1),
        ..valid(&[], &[])
    };
    assert_eq!(
        fields(&validate(&request).unwrap_err()),
        ["/grant_types", "/refresh_token_ttl"]
    );
}

/// RFC 6749 §3.1.2.3 compares redirect URIs as exact strings: a repeat is named, and a URI
/// differing only in its path's case is a different URI.
#[test]
fn a_repeated_redirect_uri_is_named() {
    let uris = [
        "https://rp.example/cb".to_string(),
        "https://rp.example/CB".to_string(),
        "https://rp.example/cb".to_string(),
    ];
    let grants = ["authorization_code".to_string()];
    let errors = validate(&valid(&uris, &grants)).unwrap_err();
    assert_eq!(fields(&errors), ["/redirect_uris/2"]);
    assert_eq!(errors[0].message, "repeats an earlier URI of the list");
}
