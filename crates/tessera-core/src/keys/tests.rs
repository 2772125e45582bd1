use super::*;

/// The retention of the default settings: one hour of ID token plus five minutes.
const RETENTION: i64 = 3900;
/// When the second key of the rotation tests is created, with one hour of publish-ahead.
const ROTATED: i64 = 1_800_000_000;
const ACTIVATES: i64 = ROTATED + 3600;

fn kek() -> KeyEncryptionKey {
    KeyEncryptionKey::from_base64(&STANDARD.encode([9u8; 32])).unwrap()
}

#[test]
fn sealed_keys_open_only_with_their_kid_and_kek() {
    let record = generate(Alg::Es256, &kek(), 0).unwrap();
    assert!(kek()
        .open(&record.private_key, record.kid.as_bytes())
        .is_ok());
    assert!(kek().open(&record.private_key, b"another kid").is_err());
    let other = KeyEncryptionKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
    assert!(other
        .open(&record.private_key, record.kid.as_bytes())
        .is_err());
}

#[test]
fn public_jwk_has_no_private_members() {
    for alg in Alg::ALL {
        let record = generate(alg, &kek(), 0).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&record.public_jwk).unwrap();
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], alg.as_str());
        assert_eq!(jwk["kid"], record.kid.as_str());
        // RFC 7518 §6.2.2 and §6.3.2: `d` (and p, q, dp, dq, qi) are private members.
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk.get(private).is_none(), "{private} leaked for {alg:?}");
        }
    }
}

#[test]
fn signs_and_verifies_and_refuses_the_wrong_typ() {
    let records = vec![
        generate(Alg::Rs256, &kek(), 0).unwrap(),
        generate(Alg::Es256, &kek(), 0).unwrap(),
    ];
    let ring = Keyring::from_records(&records, &kek(), 0, RETENTION).unwrap();
    let token = ring
        .sign_at(Alg::Es256, "at+jwt", &serde_json::json!({"sub": "u1"}), 0)
        .unwrap();
    assert_eq!(
        ring.verify_at(&token, Alg::Es256, "at+jwt", 0).unwrap()["sub"],
        "u1"
    );
    assert!(ring.verify_at(&token, Alg::Es256, "JWT", 0).is_none());
    assert!(ring.verify_at(&token, Alg::Rs256, "at+jwt", 0).is_none());
    let mut tampered = token.clone();
    tampered.insert(token.find('.').unwrap() + 2, 'x');
    assert!(ring.verify_at(&tampered, Alg::Es256, "at+jwt", 0).is_none());
}

#[test]
fn kek_must_be_32_bytes() {
    assert!(KeyEncryptionKey::from_base64(&STANDARD.encode([1u8; 16])).is_err());
    assert!(KeyEncryptionKey::from_base64("not base64!").is_err());
}

/// An ES256 key in use since long ago and its successor, created at [`ROTATED`] to
/// activate at [`ACTIVATES`]: the database after `tessera keys rotate --alg ES256`.
fn rotated_records() -> [SigningKeyRecord; 2] {
    let mut old = generate(Alg::Es256, &kek(), ROTATED - 86_400).unwrap();
    old.retired_at = Some(ACTIVATES);
    let mut new = generate(Alg::Es256, &kek(), ROTATED).unwrap();
    new.activates_at = ACTIVATES;
    new.generation = 2;
    [old, new]
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_string()
}

fn jwks_kids(ring: &Keyring) -> Vec<String> {
    let jwks: serde_json::Value = serde_json::from_slice(&ring.jwks().body()).unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_upcoming_key_is_published_but_does_not_sign() {
    let [old, new] = rotated_records();
    let ring =
        Keyring::from_records(&[old.clone(), new.clone()], &kek(), ROTATED, RETENTION).unwrap();
    assert_eq!(jwks_kids(&ring), [old.kid.clone(), new.kid.clone()]);

    let claims = serde_json::json!({"sub": "u1"});
    let before = ring
        .sign_at(Alg::Es256, "JWT", &claims, ACTIVATES - 1)
        .unwrap();
    assert_eq!(kid_of(&before), old.kid);
    let after = ring.sign_at(Alg::Es256, "JWT", &claims, ACTIVATES).unwrap();
    assert_eq!(kid_of(&after), new.kid);
}

#[test]
fn a_token_of_a_removed_key_no_longer_verifies() {
    let [old, new] = rotated_records();
    let ring =
        Keyring::from_records(&[old.clone(), new.clone()], &kek(), ROTATED, RETENTION).unwrap();
    let token = ring
        .sign_at(
            Alg::Es256,
            "JWT",
            &serde_json::json!({"sub": "u1"}),
            ROTATED,
        )
        .unwrap();
    assert_eq!(kid_of(&token), old.kid);

    let removed_at = ACTIVATES + RETENTION;
    assert!(ring
        .verify_at(&token, Alg::Es256, "JWT", removed_at - 1)
        .is_some());
    assert!(ring
        .verify_at(&token, Alg::Es256, "JWT", removed_at)
        .is_none());

    // A snapshot taken after removal has neither the key nor its JWK.
    let later = Keyring::from_records(&[old, new.clone()], &kek(), removed_at, RETENTION).unwrap();
    assert_eq!(jwks_kids(&later), [new.kid]);
    assert!(later
        .verify_at(&token, Alg::Es256, "JWT", removed_at - 1)
        .is_none());
}

#[test]
fn with_no_key_able_to_sign_signing_fails() {
    let [mut old, _] = rotated_records();
    old.retired_at = Some(ROTATED);
    let ring = Keyring::from_records(&[old], &kek(), ROTATED, RETENTION).unwrap();
    let signed = ring.sign_at(Alg::Es256, "JWT", &serde_json::json!({}), ROTATED);
    assert!(matches!(signed, Err(KeyError::NoSigningKey)));
}

#[test]
fn the_jwks_document_has_no_private_members() {
    let records = [
        generate(Alg::Rs256, &kek(), 0).unwrap(),
        generate(Alg::Es256, &kek(), 0).unwrap(),
    ];
    let ring = Keyring::from_records(&records, &kek(), 0, RETENTION).unwrap();
    let jwks: serde_json::Value = serde_json::from_slice(&ring.jwks().body()).unwrap();
    for jwk in jwks["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk.get(private).is_none(), "{private} leaked");
        }
    }
}
