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

#[test]
fn a_step_up_adds_the_factor_to_the_sessions_methods_once_each() {
    assert_eq!(combined_amr("pwd", AMR_PASSWORD_TOTP), "pwd otp mfa");
    assert_eq!(combined_amr("pwd", AMR_PASSWORD_RECOVERY), "pwd mfa");
    assert_eq!(
        combined_amr("pwd otp mfa", AMR_PASSWORD_TOTP),
        "pwd otp mfa"
    );
    assert_eq!(combined_amr("hwk", "pwd otp mfa"), "hwk pwd otp mfa");
}
