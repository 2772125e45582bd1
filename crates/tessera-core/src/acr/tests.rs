use super::*;

use tessera_protocol::acr::Acr::{
    MultiFactor, Password, PhishingResistant, PhishingResistantHardware,
};

/// RFC 8176 §2 method values, as Tessera's logins record them, and the class each reaches.
#[test]
fn the_class_of_a_login_follows_its_methods() {
    let cases = [
        ("pwd", Password),
        ("pwd otp mfa", MultiFactor),
        ("pwd mfa", MultiFactor),
        ("pwd swk mfa", PhishingResistant),
        ("swk user mfa", PhishingResistant),
        ("pwd hwk mfa", PhishingResistantHardware),
        ("hwk user mfa", PhishingResistantHardware),
        ("hwk swk mfa", PhishingResistantHardware),
    ];
    for (amr, expected) in cases {
        assert_eq!(acr_of(amr), expected, "{amr}");
    }
}

/// Without "mfa" a login is one factor, even one that names a second method or a key.
#[test]
fn a_login_without_mfa_is_one_factor_whatever_it_used() {
    for amr in [
        "pwd otp",
        "otp",
        "hwk",
        "swk user",
        "pwd hwk",
        "",
        "mfa-ish pwd",
    ] {
        assert_eq!(acr_of(amr), Password, "{amr:?}");
    }
}

/// Methods are whole, case-sensitive tokens (RFC 8176 §1: case-sensitive strings).
#[test]
fn methods_are_matched_as_whole_tokens() {
    assert_eq!(acr_of("pwd MFA"), Password);
    assert_eq!(acr_of("pwd hwk2 mfa"), MultiFactor);
    assert_eq!(acr_of("pwd otp  mfa"), MultiFactor);
}

#[test]
fn nothing_asked_needs_one_factor() {
    assert_eq!(required(&[], MfaPolicy::Optional, MultiFactor), Password);
}

#[test]
fn the_weakest_listed_class_is_what_is_owed() {
    let asked = [PhishingResistant, MultiFactor];
    assert_eq!(
        required(&asked, MfaPolicy::Optional, PhishingResistantHardware),
        MultiFactor
    );
    let asked = [MultiFactor, Password, PhishingResistantHardware];
    assert_eq!(
        required(&asked, MfaPolicy::Optional, PhishingResistantHardware),
        Password
    );
}

#[test]
fn a_class_beyond_reach_is_asked_for_as_the_best_reachable() {
    assert_eq!(
        required(&[PhishingResistant], MfaPolicy::Optional, MultiFactor),
        MultiFactor
    );
    assert_eq!(
        required(
            &[PhishingResistantHardware],
            MfaPolicy::Optional,
            PhishingResistant
        ),
        PhishingResistant
    );
    assert_eq!(
        required(
            &[PhishingResistant],
            MfaPolicy::Optional,
            PhishingResistantHardware
        ),
        PhishingResistant
    );
}

#[test]
fn a_client_that_requires_mfa_needs_two_factors_whatever_it_asked() {
    assert_eq!(required(&[], MfaPolicy::Required, MultiFactor), MultiFactor);
    assert_eq!(
        required(&[Password], MfaPolicy::Required, MultiFactor),
        MultiFactor
    );
    assert_eq!(
        required(
            &[PhishingResistant],
            MfaPolicy::Required,
            PhishingResistantHardware
        ),
        PhishingResistant
    );
}

/// The request is met when the session's class is at least the owed one.
#[test]
fn a_stronger_login_meets_a_weaker_request() {
    let owed = required(&[MultiFactor], MfaPolicy::Optional, MultiFactor);
    assert!(acr_of("pwd hwk mfa") >= owed);
    assert!(acr_of("pwd otp mfa") >= owed);
    assert!(acr_of("pwd") < owed);
}
