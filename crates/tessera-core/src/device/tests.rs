#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD;

use super::*;

fn kek(byte: u8) -> KeyEncryptionKey {
    KeyEncryptionKey::from_base64(&STANDARD.encode([byte; 32])).unwrap()
}

#[test]
fn an_issued_cookie_names_its_device() {
    let (id, cookie) = issue(&kek(9));
    assert_eq!(verify(&kek(9), cookie.expose()), Some(id.clone()));
    // 128 bits of the value's hash, in lowercase hex.
    assert_eq!(id.as_str().len(), 32);
    assert!(id
        .as_str()
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn the_public_id_is_the_truncated_sha256_of_the_value() {
    // SHA-256("abc") is ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    // (FIPS 180-2, Appendix B.1); the id is its first 16 bytes.
    assert_eq!(
        DeviceId::of("abc").as_str(),
        "ba7816bf8f01cfea414140de5dae2223"
    );
}

#[test]
fn a_cookie_under_another_key_is_refused() {
    let (_, cookie) = issue(&kek(9));
    assert_eq!(verify(&kek(8), cookie.expose()), None);
}

#[test]
fn a_changed_value_or_tag_is_refused() {
    let (_, cookie) = issue(&kek(9));
    let (value, tag) = cookie.expose().split_once('.').unwrap();
    let other_value = format!("A{}", &value[1..]);
    let other_tag = format!("A{}", &tag[1..]);
    for forged in [
        format!("{other_value}.{tag}"),
        format!("{value}.{other_tag}"),
        value.to_string(),
        format!("{value}."),
        format!(".{tag}"),
        String::new(),
    ] {
        if forged != cookie.expose() {
            assert_eq!(verify(&kek(9), &forged), None, "{forged}");
        }
    }
}

#[test]
fn each_new_device_is_a_different_device() {
    let (a, _) = issue(&kek(9));
    let (b, _) = issue(&kek(9));
    assert_ne!(a, b);
}

#[test]
fn the_cookie_value_never_shows_in_debug() {
    let (_, cookie) = issue(&kek(9));
    assert_eq!(format!("{cookie:?}"), "DeviceCookie([REDACTED])");
}

#[test]
fn only_32_lowercase_hex_characters_parse_as_a_device_id() {
    let id = "ba7816bf8f01cfea414140de5dae2223";
    assert_eq!(DeviceId::parse(id).unwrap().as_str(), id);
    for bad in [
        "",
        "BA7816BF8F01CFEA414140DE5DAE2223",
        "ba7816bf8f01cfea414140de5dae222",
        "ba7816bf8f01cfea414140de5dae22230",
        "ga7816bf8f01cfea414140de5dae2223",
        "ba7816bf8f01cfea414140de5dae222\u{e9}",
    ] {
        assert_eq!(DeviceId::parse(bad), None, "{bad}");
    }
}
