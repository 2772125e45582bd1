use super::*;

fn change(new: &str, confirm: &str) -> PasswordChange {
    PasswordChange {
        current: SecretString::from("whatever it was"),
        new: SecretString::from(new),
        confirm: SecretString::from(confirm),
    }
}

fn errors_of(change: &PasswordChange, policy: &PasswordPolicy) -> PasswordErrors {
    new_password_errors(&change.new, &change.confirm, policy)
}

#[test]
fn a_good_new_password_typed_twice_has_no_errors() {
    let errors = errors_of(
        &change("plum orchard lantern", "plum orchard lantern"),
        &PasswordPolicy::default(),
    );
    assert!(!errors.any(), "{errors:?}");
}

/// NIST SP 800-63B §3.1.1.2: eight characters at least; the message never repeats the
/// password.
#[test]
fn a_short_password_is_refused_by_the_policy_in_the_pages_words() {
    let errors = errors_of(&change("kq3#vZ!", "kq3#vZ!"), &PasswordPolicy::default());
    assert_eq!(errors.new.as_deref(), Some("Use at least 8 characters."));
    assert_eq!(errors.confirm, None);
}

#[test]
fn a_confirmation_that_differs_is_refused_on_its_own_field() {
    let errors = errors_of(
        &change("plum orchard lantern", "plum orchard lanterns"),
        &PasswordPolicy::default(),
    );
    assert_eq!(errors.new, None);
    assert_eq!(errors.confirm, Some(CONFIRMATION_DIFFERS));
}

#[test]
fn both_refusals_are_reported_at_once() {
    let errors = errors_of(&change("short", "shorter"), &PasswordPolicy::new(12));
    assert_eq!(errors.new.as_deref(), Some("Use at least 12 characters."));
    assert_eq!(errors.confirm, Some(CONFIRMATION_DIFFERS));
}

#[test]
fn a_common_password_is_refused_as_one() {
    let errors = errors_of(
        &change("Password123", "Password123"),
        &PasswordPolicy::default(),
    );
    assert!(errors
        .new
        .is_some_and(|m| m.contains("too common") && !m.contains("Password123")));
}
