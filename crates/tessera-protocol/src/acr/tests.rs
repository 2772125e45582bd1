use super::*;

#[test]
fn the_classes_are_ordered_from_password_to_hardware_bound_keys() {
    assert!(Acr::Password < Acr::MultiFactor);
    assert!(Acr::MultiFactor < Acr::PhishingResistant);
    assert!(Acr::PhishingResistant < Acr::PhishingResistantHardware);
    let listed: Vec<&str> = Acr::ALL.iter().map(|acr| acr.as_str()).collect();
    assert_eq!(
        listed,
        ["urn:tessera:acr:pwd", "urn:tessera:acr:mfa", "phr", "phrh"]
    );
}

#[test]
fn values_are_compared_exactly() {
    assert_eq!(Acr::parse("phr"), Some(Acr::PhishingResistant));
    assert_eq!(Acr::parse("phrh"), Some(Acr::PhishingResistantHardware));
    assert_eq!(Acr::parse("urn:tessera:acr:mfa"), Some(Acr::MultiFactor));
    assert_eq!(Acr::parse("PHR"), None);
    assert_eq!(Acr::parse("urn:tessera:acr:MFA"), None);
    assert_eq!(Acr::parse(" phr"), None);
}

#[test]
fn unknown_values_are_dropped_and_known_ones_keep_their_order_once() {
    // The example of OIDC Core §5.5.1 names a class Tessera does not define.
    let values = "urn:mace:incommon:iap:silver phrh  urn:tessera:acr:pwd phrh";
    assert_eq!(
        parse_acr_values(values).unwrap(),
        [Acr::PhishingResistantHardware, Acr::Password]
    );
    assert_eq!(
        parse_acr_values("urn:mace:incommon:iap:silver").unwrap(),
        []
    );
    assert_eq!(parse_acr_values("").unwrap(), []);
}

#[test]
fn a_parameter_with_control_characters_is_invalid() {
    let err = parse_acr_values("phr\u{0}phrh").unwrap_err();
    assert_eq!(err.code, crate::ErrorCode::InvalidRequest);
    assert!(parse_acr_values(&"x".repeat(5000)).is_err());
}

#[test]
fn the_class_is_stored_as_its_wire_value() {
    let json = serde_json::to_string(&[Acr::MultiFactor, Acr::PhishingResistant]).unwrap();
    assert_eq!(json, r#"["urn:tessera:acr:mfa","phr"]"#);
    let back: Vec<Acr> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, [Acr::MultiFactor, Acr::PhishingResistant]);
}
