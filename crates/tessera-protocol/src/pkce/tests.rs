use super::*;
use crate::ErrorCode;

// The example of RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[test]
fn rfc_7636_appendix_b_example_verifies() {
    let challenge = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
    assert_eq!(challenge.verify(VERIFIER), Ok(()));
}

#[test]
fn wrong_verifier_is_invalid_grant() {
    let challenge = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
    let other = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(
        challenge.verify(other).unwrap_err().code,
        ErrorCode::InvalidGrant
    );
}

#[test]
fn plain_and_missing_method_are_refused() {
    assert!(CodeChallenge::parse(CHALLENGE, Some("plain")).is_err());
    assert!(CodeChallenge::parse(CHALLENGE, None).is_err());
}

#[test]
fn short_verifier_is_refused() {
    let challenge = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
    assert!(challenge.verify("too-short").is_err());
}
