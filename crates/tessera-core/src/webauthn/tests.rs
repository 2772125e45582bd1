use super::*;

fn flags(backup_eligible: bool, user_verified: bool) -> KeyFlags {
    KeyFlags {
        backup_eligible,
        user_verified,
    }
}

/// RFC 8176 §2 values, written out: a key whose BE flag is clear is still "swk", since
/// only a verified attestation could prove it lives in hardware ("hwk").
#[test]
fn a_key_that_claims_no_backup_is_still_swk() {
    let second = KeyLogin::SecondFactor;
    assert_eq!(amr(second, flags(false, true)), "pwd swk user mfa");
    assert_eq!(amr(second, flags(false, false)), "pwd swk mfa");
}

#[test]
fn a_synced_passkey_after_the_password_is_swk() {
    let second = KeyLogin::SecondFactor;
    assert_eq!(amr(second, flags(true, true)), "pwd swk user mfa");
    assert_eq!(amr(second, flags(true, false)), "pwd swk mfa");
}

/// A key alone is multi-factor only when the authenticator verified the person.
#[test]
fn a_passwordless_key_is_mfa_only_with_user_verification() {
    let alone = KeyLogin::Passwordless;
    assert_eq!(amr(alone, flags(false, true)), "swk user mfa");
    assert_eq!(amr(alone, flags(true, true)), "swk user mfa");
    assert_eq!(amr(alone, flags(false, false)), "swk");
    assert_eq!(amr(alone, flags(true, false)), "swk");
}

#[test]
fn the_amr_of_a_key_login_counts_as_multi_factor_for_mfa_policies() {
    assert!(crate::mfa::is_multi_factor(&amr(
        KeyLogin::Passwordless,
        flags(true, true)
    )));
    assert!(!crate::mfa::is_multi_factor(&amr(
        KeyLogin::Passwordless,
        flags(true, false)
    )));
}

/// W3C WebAuthn L2 §7.2 step 21.
#[test]
fn the_signature_counter_must_grow_unless_both_are_zero() {
    assert!(
        sign_count_advances(0, 0),
        "authenticators without a counter"
    );
    assert!(sign_count_advances(0, 1));
    assert!(sign_count_advances(41, 42));
    assert!(sign_count_advances(0, u32::MAX));
    assert!(!sign_count_advances(42, 42), "a repeated counter");
    assert!(!sign_count_advances(42, 7), "a counter that went backwards");
    assert!(
        !sign_count_advances(42, 0),
        "a counter that went back to zero"
    );
}

#[test]
fn key_names_are_trimmed_and_limited_to_64_characters() {
    assert_eq!(
        KeyName::parse("  Work laptop ").unwrap().as_str(),
        "Work laptop"
    );
    assert_eq!(KeyName::parse("   "), Err(KeyNameRefusal::Empty));
    assert_eq!(KeyName::parse(""), Err(KeyNameRefusal::Empty));
    let sixty_four = "é".repeat(64);
    assert_eq!(KeyName::parse(&sixty_four).unwrap().as_str(), sixty_four);
    assert_eq!(
        KeyName::parse(&"é".repeat(65)),
        Err(KeyNameRefusal::TooLong)
    );
    assert_eq!(KeyName::parse("a\u{0}b"), Err(KeyNameRefusal::Control));
    assert_eq!(KeyName::parse("a\nb"), Err(KeyNameRefusal::Control));
}

#[test]
fn an_unnamed_key_is_named_by_its_kind() {
    assert_eq!(KeyName::or_default("", true).unwrap().as_str(), "Passkey");
    assert_eq!(
        KeyName::or_default(" ", false).unwrap().as_str(),
        "Security key"
    );
    assert_eq!(KeyName::or_default("Mine", false).unwrap().as_str(), "Mine");
    assert_eq!(
        KeyName::or_default("a\tb", true),
        Err(KeyNameRefusal::Control)
    );
}

fn rp(issuer: &str) -> Result<RelyingParty, Unavailable> {
    RelyingParty::for_issuer(&Issuer::parse(issuer).unwrap())
}

/// The RP ID is the issuer's host; the origin its scheme, host and port, without its path.
#[test]
fn the_relying_party_is_the_issuers_host_and_origin() {
    let party = rp("https://login.example.com/tessera").unwrap();
    assert_eq!(party.rp_id(), "login.example.com");
    let origins: Vec<String> = party
        .webauthn
        .get_allowed_origins()
        .iter()
        .map(|u| u.origin().ascii_serialization())
        .collect();
    assert_eq!(origins, ["https://login.example.com"]);

    let local = rp("http://localhost:8080").unwrap();
    assert_eq!(local.rp_id(), "localhost");
    let origin = local.webauthn.get_allowed_origins()[0].origin();
    assert_eq!(origin.ascii_serialization(), "http://localhost:8080");
}

/// W3C WebAuthn L2 §5.1.3 step 7: an IP address is not a valid domain.
#[test]
fn an_issuer_on_an_ip_address_offers_no_webauthn() {
    assert_eq!(
        rp("http://127.0.0.1:8080").err(),
        Some(Unavailable::IpAddress)
    );
    assert_eq!(rp("http://[::1]:8080").err(), Some(Unavailable::IpAddress));
    assert_eq!(rp("https://192.0.2.7").err(), Some(Unavailable::IpAddress));
}

/// W3C WebAuthn L2 §5.4.4 and §5.4.6: registration asks for a discoverable credential and
/// user verification, and lists the credentials to exclude.
#[test]
fn registration_asks_for_a_discoverable_credential_with_user_verification() {
    let party = rp("https://login.example.com").unwrap();
    let handle = webauthn_rs::prelude::Uuid::new_v4();
    let excluded = webauthn_rs::prelude::CredentialID::from(vec![7u8; 16]);
    let (mut options, _) = party
        .webauthn
        .start_passkey_registration(handle, "alice", "Alice", Some(vec![excluded]))
        .unwrap();
    require_discoverable(&mut options);

    let json = serde_json::to_value(&options).unwrap();
    let selection = &json["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(json["publicKey"]["rp"]["id"], "login.example.com");
    // The user handle is the random one given, not the username.
    assert_eq!(
        json["publicKey"]["user"]["id"],
        URL_SAFE_NO_PAD.encode(handle.as_bytes())
    );
    let excluded = &json["publicKey"]["excludeCredentials"][0]["id"];
    assert_eq!(excluded, &URL_SAFE_NO_PAD.encode([7u8; 16]));
}

/// W3C WebAuthn L2 §7.2 step 6, for a person identified before the ceremony.
#[test]
fn a_user_handle_in_a_second_factor_assertion_must_be_the_persons() {
    let theirs = webauthn_rs::prelude::Uuid::new_v4();
    let stored = theirs.hyphenated().to_string();
    assert!(factor::handle_is_theirs(None, Some(&stored)));
    assert!(factor::handle_is_theirs(
        Some(theirs.as_bytes()),
        Some(&stored)
    ));
    let other = webauthn_rs::prelude::Uuid::new_v4();
    assert!(!factor::handle_is_theirs(
        Some(other.as_bytes()),
        Some(&stored)
    ));
    assert!(!factor::handle_is_theirs(Some(b"alice"), Some(&stored)));
    assert!(!factor::handle_is_theirs(Some(theirs.as_bytes()), None));
}

#[test]
fn credential_ids_are_named_in_base64url_without_padding() {
    assert_eq!(key_id(&[0xfb, 0xff, 0x01]), "-_8B");
}
