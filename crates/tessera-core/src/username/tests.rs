use super::*;

#[test]
fn case_and_width_variants_share_one_key() {
    assert_eq!(username_key("Alice").unwrap(), "alice");
    // U+FF21 FULLWIDTH LATIN CAPITAL LETTER A maps to "a" (RFC 8265 §3.3.2 rule 1).
    assert_eq!(username_key("\u{FF21}lice").unwrap(), "alice");
    // "é" precomposed and decomposed normalise to one NFC form.
    assert_eq!(
        username_key("Jos\u{e9}").unwrap(),
        username_key("Jose\u{301}").unwrap()
    );
}

#[test]
fn spaces_and_controls_are_disallowed() {
    assert_eq!(username_key("al ice"), Err(UsernameError::Disallowed));
    assert_eq!(username_key("al\u{0}ice"), Err(UsernameError::Disallowed));
    assert_eq!(username_key(""), Err(UsernameError::Empty));
}
