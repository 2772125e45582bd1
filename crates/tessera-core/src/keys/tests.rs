use super::*;

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
    let ring = Keyring::from_records(&records, &kek()).unwrap();
    let token = ring
        .sign(Alg::Es256, "at+jwt", &serde_json::json!({"sub": "u1"}))
        .unwrap();
    assert_eq!(
        ring.verify(&token, Alg::Es256, "at+jwt").unwrap()["sub"],
        "u1"
    );
    assert!(ring.verify(&token, Alg::Es256, "JWT").is_none());
    assert!(ring.verify(&token, Alg::Rs256, "at+jwt").is_none());
    let mut tampered = token.clone();
    tampered.insert(token.find('.').unwrap() + 2, 'x');
    assert!(ring.verify(&tampered, Alg::Es256, "at+jwt").is_none());
}

#[test]
fn kek_must_be_32_bytes() {
    assert!(KeyEncryptionKey::from_base64(&STANDARD.encode([1u8; 16])).is_err());
    assert!(KeyEncryptionKey::from_base64("not base64!").is_err());
}
