use super::*;

#[test]
fn parses_and_prints_sorted() {
    let scope = Scope::parse("openid  email profile").unwrap();
    assert_eq!(scope.to_string(), "email openid profile");
    assert!(scope.contains("openid"));
}

#[test]
fn refuses_characters_outside_rfc_6749_section_3_3() {
    assert!(Scope::parse("openid e\"mail").is_err());
    assert!(Scope::parse("openid e\\mail").is_err());
    assert!(Scope::parse("openid é").is_err());
}
