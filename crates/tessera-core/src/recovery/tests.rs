#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn a_set_is_ten_distinct_codes_of_sixty_bits() {
    let set = generate_set();
    assert_eq!(set.len(), 10);
    let mut digests: Vec<_> = set.iter().map(RecoveryCode::digest).collect();
    digests.sort();
    digests.dedup();
    assert_eq!(digests.len(), 10);
    for code in &set {
        assert_eq!(code.expose().len(), 14, "{}", code.expose());
        assert_eq!(code.expose().matches('-').count(), 2);
    }
}

#[test]
fn typed_codes_are_read_leniently_but_must_be_whole() {
    let expected = digest("0123456789ab");
    assert_eq!(stored_form("0123-4567-89ab"), Some(expected));
    assert_eq!(stored_form(" O123 4567 89AB "), Some(expected));
    assert_eq!(stored_form("o123-4567-89ab"), Some(expected));
    assert_eq!(stored_form("0123-4567-89a"), None);
    assert_eq!(stored_form("0123-4567-89abc"), None);
    assert_eq!(stored_form("0123-4567-89a!"), None);
    assert_eq!(stored_form("0123-4567-89aé"), None);
}

#[test]
fn the_stored_form_is_the_sha256_of_the_canonical_code() {
    let code = RecoveryCode(Zeroizing::new("abcd-efgh-jkmn".to_string()));
    assert_eq!(code.digest(), digest("abcdefghjkmn"));
    assert_eq!(format!("{code:?}"), "RecoveryCode([REDACTED])");
}
