#![allow(clippy::unwrap_used)]
use super::*;

fn check(password: &str) -> Result<(), PasswordRefusal> {
    PasswordPolicy::default().check(&SecretString::from(password))
}

#[test]
fn the_list_is_shipped_and_non_trivial() {
    assert!(COMMON.len() > 10_000, "{}", COMMON.len());
}

/// §3.1.1.2: fewer than 8 characters is refused; exactly 8 is enough.
#[test]
fn seven_characters_are_too_few_and_eight_enough() {
    assert_eq!(check("kq3#vZ!"), Err(PasswordRefusal::TooShort(8)));
    assert_eq!(check("kq3#vZ!p"), Ok(()));
}

/// Characters, not bytes: eight accented letters are eight characters.
#[test]
fn length_counts_characters_not_bytes() {
    assert_eq!(check("éèêëēėęě"), Ok(()));
}

/// The minimum holds for the password as typed: U+FDFA is one character that NFKC turns
/// into 18, and U+FB01 (the "fi" ligature) one that it turns into two.
#[test]
fn the_minimum_counts_characters_as_typed() {
    assert_eq!(check("\u{fdfa}"), Err(PasswordRefusal::TooShort(8)));
    assert_eq!(
        check("\u{fb01}\u{fb01}\u{fb01}x9"),
        Err(PasswordRefusal::TooShort(8))
    );
    assert_eq!(check("\u{fb01}\u{fb01}\u{fb01}x9qz7"), Ok(()));
}

/// And after NFKC: eight typed code points that compose into seven are too few.
#[test]
fn the_minimum_counts_characters_after_nfkc() {
    // "e" followed by U+0301 (combining acute) composes into one "é".
    assert_eq!(check("e\u{301}q3#vZ!"), Err(PasswordRefusal::TooShort(8)));
    assert_eq!(check("e\u{301}q3#vZ!x"), Ok(()));
}

#[test]
fn the_configured_minimum_applies_and_never_drops_below_eight() {
    let strict = PasswordPolicy::new(12);
    let password = SecretString::from("kq3#vZ!pa7x");
    assert_eq!(strict.check(&password), Err(PasswordRefusal::TooShort(12)));
    assert_eq!(PasswordPolicy::new(4).min_chars(), 8);
}

#[test]
fn more_than_256_characters_are_refused() {
    assert_eq!(check(&"kq3#vZ!p".repeat(32)), Ok(()));
    let long = format!("{}x", "kq3#vZ!p".repeat(32));
    assert_eq!(check(&long), Err(PasswordRefusal::TooLong(256)));
}

/// §3.1.1.2: no composition rules: lower-case letters and spaces alone are fine.
#[test]
fn no_composition_rules() {
    assert_eq!(check("correct horse battery staple"), Ok(()));
    assert_eq!(check("zzzqqqxxxwww"), Ok(()));
}

/// §3.1.1.2: passwords from breach corpora are refused, whatever their case or width.
#[test]
fn common_passwords_are_refused_case_insensitively_after_nfkc() {
    assert_eq!(check("password"), Err(PasswordRefusal::Common));
    assert_eq!(check("PassWord"), Err(PasswordRefusal::Common));
    assert_eq!(check("trustno1"), Err(PasswordRefusal::Common));
    // Fullwidth letters (U+FF50 ...) fold to ASCII under NFKC.
    assert_eq!(check("ｐａｓｓｗｏｒｄ"), Err(PasswordRefusal::Common));
}
