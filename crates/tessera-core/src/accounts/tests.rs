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

/// RFC 7518 §3.3: an RSA key for RS256 is 2048 bits or longer.
#[test]
fn an_rsa_key_under_2048_bits_is_refused_at_registration() {
    for bits in [1024, 2040] {
        let jwks = rsa_jwks(bits / 8, 0);
        let err = key_registration(&key_client(&jwks)).unwrap_err();
        assert!(err.to_string().contains("2048 bits"), "{bits}: {err}");
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

    let err = AccountError::BackchannelLogoutUri {
        uri: "https://x/bcl#f".into(),
        reason: UriRefusal::Fragment,
    };
    assert!(err.to_string().contains("fragment"), "{err}");
    assert!(!err.to_string().contains("https, or"), "{err}");
}
