#![allow(clippy::unwrap_used)]
use super::*;

/// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
fn rfc_secret() -> TotpSecret {
    TotpSecret::from_bytes(b"12345678901234567890".to_vec())
}

/// RFC 6238 Appendix B, the SHA-1 rows: 8-digit codes at the listed times.
#[test]
fn rfc_6238_appendix_b_sha1_vectors() {
    let vectors = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];
    for (time, expected) in vectors {
        let code = rfc_secret().code_at(8, time).unwrap();
        assert_eq!(code.as_str(), expected, "T = {time}");
    }
}

/// The product's 6-digit codes are the last six digits of the 8-digit ones (RFC 4226
/// §5.3: the value is taken modulo 10^Digit).
#[test]
fn six_digit_codes_are_the_vectors_last_six_digits() {
    assert_eq!(rfc_secret().code_at(6, 59).unwrap().as_str(), "287082");
    assert_eq!(
        rfc_secret().code_at(6, 1_111_111_109).unwrap().as_str(),
        "081804"
    );
}

/// RFC 6238 §5.2: one step either way is accepted, two are not. T=59 is step 1.
#[test]
fn the_window_is_one_step_either_way() {
    let code = "287082"; // step 1: times 30 to 59
    assert_eq!(matching_step(&rfc_secret(), code, 30), Some(1));
    assert_eq!(matching_step(&rfc_secret(), code, 59), Some(1));
    assert_eq!(matching_step(&rfc_secret(), code, 0), Some(1)); // one step early
    assert_eq!(matching_step(&rfc_secret(), code, 89), Some(1)); // one step late
    assert_eq!(matching_step(&rfc_secret(), code, 90), None); // two steps late
}

#[test]
fn two_steps_early_is_refused() {
    let code = rfc_secret().code_at(6, 5 * STEP).unwrap();
    assert_eq!(matching_step(&rfc_secret(), &code, 4 * STEP), Some(5));
    assert_eq!(matching_step(&rfc_secret(), &code, 3 * STEP + 29), None);
}

#[test]
fn codes_of_the_wrong_shape_never_match() {
    for code in ["", "28708", "2870822", "28708a", "２８７０８２", "94287082"] {
        assert_eq!(matching_step(&rfc_secret(), code, 59), None, "{code:?}");
    }
    assert_eq!(matching_step(&rfc_secret(), " 287 082 ", 59), Some(1));
}

#[test]
fn a_generated_secret_is_160_bits() {
    let secret = TotpSecret::generate();
    assert_eq!(secret.0.len(), 20);
    assert_eq!(secret.base32().len(), 32);
    assert_eq!(format!("{secret:?}"), "TotpSecret([REDACTED])");
}

/// The sealed secret opens only for the user it was sealed for.
#[test]
fn a_sealed_secret_is_bound_to_its_user() {
    let kek = KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate_base64()).unwrap();
    let sealed = rfc_secret().seal(&kek, "alice").unwrap();
    let opened = TotpSecret::open(&sealed, &kek, "alice").unwrap();
    assert_eq!(opened.code_at(8, 59).unwrap().as_str(), "94287082");
    assert!(TotpSecret::open(&sealed, &kek, "mallory").is_err());
}

#[test]
fn the_otpauth_uri_carries_the_parameters_apps_expect() {
    let uri = rfc_secret().otpauth_uri("Tessera", "alice");
    assert_eq!(
        uri.as_str(),
        "otpauth://totp/Tessera:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Tessera&algorithm=SHA1&digits=6&period=30"
    );
}
