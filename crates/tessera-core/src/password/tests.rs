use super::*;

#[tokio::test]
async fn hashes_with_argon2id_at_owasp_cost_and_verifies() {
    let hasher = PasswordHasher::new(1).unwrap();
    let hash = hasher
        .hash(SecretString::from("correct horse"))
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(
        hasher
            .verify(SecretString::from("correct horse"), Some(hash.clone()))
            .await
    );
    assert!(
        !hasher
            .verify(SecretString::from("wrong horse"), Some(hash))
            .await
    );
}

#[tokio::test]
async fn an_unknown_user_never_verifies() {
    let hasher = PasswordHasher::new(1).unwrap();
    assert!(!hasher.verify(SecretString::from("anything"), None).await);
}

/// NIST SP 800-63B §5.1.1.2: passwords are NFKC-normalised before hashing, so a password
/// set in full-width letters matches the same letters typed in ASCII, and a composed é
/// matches e followed by a combining acute accent.
#[tokio::test]
async fn compatibility_forms_of_a_password_verify_alike() {
    let hasher = PasswordHasher::new(1).unwrap();
    let full_width = "\u{FF43}\u{FF41}\u{FF46}\u{FF45} horse"; // "ｃａｆｅ horse"
    let hash = hasher.hash(SecretString::from(full_width)).await.unwrap();
    assert!(
        hasher
            .verify(SecretString::from("cafe horse"), Some(hash))
            .await
    );

    let composed = hasher.hash(SecretString::from("caf\u{E9}")).await.unwrap();
    assert!(
        hasher
            .verify(SecretString::from("cafe\u{301}"), Some(composed))
            .await
    );
}
