use super::*;

#[test]
fn policies_parse_and_anything_else_defers_to_the_default() {
    assert_eq!(MfaPolicy::parse("required"), Some(MfaPolicy::Required));
    assert_eq!(MfaPolicy::parse("optional"), Some(MfaPolicy::Optional));
    assert_eq!(MfaPolicy::parse("default"), None);
    assert_eq!(MfaPolicy::parse("Required"), None);
}

#[test]
fn only_sessions_with_mfa_count_as_multi_factor() {
    assert!(!is_multi_factor(AMR_PASSWORD));
    assert!(is_multi_factor(AMR_PASSWORD_TOTP));
    assert!(is_multi_factor(AMR_PASSWORD_RECOVERY));
    assert!(!is_multi_factor("pwd otp"));
}
