use super::*;

#[test]
fn secrets_carry_256_bits() {
    let secret = RandomSecret::generate();
    assert_eq!(URL_SAFE_NO_PAD.decode(secret.expose()).unwrap().len(), 32);
    assert_ne!(secret.expose(), RandomSecret::generate().expose());
}

#[test]
fn digest_is_sha256() {
    // FIPS 180-2 example: SHA-256("abc").
    let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let hex: String = digest("abc").iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, expected);
}

#[test]
fn debug_does_not_reveal_the_secret() {
    let secret = RandomSecret::generate();
    assert!(!format!("{secret:?}").contains(secret.expose()));
}

#[test]
fn csrf_token_is_bound_to_the_interaction() {
    let token = csrf_token("interaction-a");
    assert!(csrf_matches("interaction-a", &token));
    assert!(!csrf_matches("interaction-b", &token));
    assert!(!csrf_matches("interaction-a", ""));
}

#[test]
fn keyed_tokens_differ_by_key_and_by_label() {
    let token = keyed_token("session-a", b"label one");
    assert!(keyed_token_matches("session-a", b"label one", &token));
    assert!(!keyed_token_matches("session-b", b"label one", &token));
    assert!(!keyed_token_matches("session-a", b"label two", &token));
    assert!(!keyed_token_matches("session-a", b"label one", ""));
}

/// RFC 4231 §4.3 test case 2: HMAC-SHA-256 with key "Jefe" over "what do ya want for
/// nothing?", here base64url without padding.
#[test]
fn keyed_tokens_are_hmac_sha256() {
    assert_eq!(
        keyed_token("Jefe", b"what do ya want for nothing?"),
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM"
    );
}
