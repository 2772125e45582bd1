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
