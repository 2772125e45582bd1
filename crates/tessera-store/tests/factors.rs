#![allow(clippy::unwrap_used, clippy::panic)]
//! Second factors in the store: the single-use rules are conditional UPDATEs, so they hold
//! on both engines without any help from the caller.

use tessera_store::testing::on_each_engine;
use tessera_store::{NewUser, Store};

const NOW: i64 = 1_800_000_000;

async fn seed_user(store: &Store, id: &str) {
    let mut tx = store.begin().await.unwrap();
    let user = NewUser {
        id,
        username: id,
        username_key: id,
        email: None,
        display_name: None,
        password_hash: None,
    };
    tx.insert_user(&user, NOW).await.unwrap();
    tx.commit().await.unwrap();
}

/// Two interactions' hashes.
const A: [u8; 32] = [0xa; 32];
const B: [u8; 32] = [0xb; 32];

/// An unconfirmed secret is confirmed only by the interaction that drew it: once another
/// interaction has drawn its own, the first can no longer confirm anything.
#[tokio::test]
async fn an_enrolment_is_confirmed_only_by_the_interaction_that_drew_it() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .begin_totp_enrolment("u1", b"owners", &A, NOW)
            .await
            .unwrap());
        assert!(!tx.confirm_totp_enrolment("u1", &B, 7, NOW).await.unwrap());
        assert!(tx
            .begin_totp_enrolment("u1", b"others", &B, NOW)
            .await
            .unwrap());
        assert!(!tx.confirm_totp_enrolment("u1", &A, 7, NOW).await.unwrap());
        tx.commit().await.unwrap();

        let factor = store.totp_factor("u1").await.unwrap().unwrap();
        assert_eq!(factor.confirmed_at, None);
        assert_eq!(factor.enrolling_interaction.as_deref(), Some(B.as_slice()));
    })
    .await;
}

/// RFC 6238 §5.2: a code's step is accepted once; the same or an older step is refused.
#[tokio::test]
async fn a_totp_step_is_accepted_once_and_never_an_older_one() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .begin_totp_enrolment("u1", b"sealed", &A, NOW)
            .await
            .unwrap());
        assert!(!tx.accept_totp_step("u1", 99).await.unwrap(), "unconfirmed");
        assert!(tx.confirm_totp_enrolment("u1", &A, 100, NOW).await.unwrap());
        assert!(!tx.accept_totp_step("u1", 100).await.unwrap());
        assert!(!tx.accept_totp_step("u1", 99).await.unwrap());
        assert!(tx.accept_totp_step("u1", 101).await.unwrap());
        tx.commit().await.unwrap();

        let factor = store.totp_factor("u1").await.unwrap().unwrap();
        assert_eq!(factor.last_step, 101);
        assert_eq!(factor.confirmed_at, Some(NOW));
    })
    .await;
}

/// A confirmed authenticator is not replaced by starting another enrolment.
#[tokio::test]
async fn enrolment_does_not_replace_a_confirmed_authenticator() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .begin_totp_enrolment("u1", b"first", &A, NOW)
            .await
            .unwrap());
        assert!(tx
            .begin_totp_enrolment("u1", b"second", &B, NOW)
            .await
            .unwrap());
        assert!(tx.confirm_totp_enrolment("u1", &B, 5, NOW).await.unwrap());
        assert!(!tx
            .begin_totp_enrolment("u1", b"third", &A, NOW)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let factor = store.totp_factor("u1").await.unwrap().unwrap();
        assert_eq!(factor.secret_sealed, b"second");
    })
    .await;
}

#[tokio::test]
async fn a_recovery_code_works_once_and_a_new_set_replaces_the_old() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        seed_user(&store, "u2").await;
        let mut tx = store.begin().await.unwrap();
        tx.replace_recovery_codes("u1", &[[1; 32], [2; 32]], NOW)
            .await
            .unwrap();
        assert!(!tx.use_recovery_code("u2", &[1; 32], NOW).await.unwrap());
        assert!(tx.use_recovery_code("u1", &[1; 32], NOW).await.unwrap());
        assert!(!tx.use_recovery_code("u1", &[1; 32], NOW).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(store.unused_recovery_codes("u1").await.unwrap(), 1);

        let mut tx = store.begin().await.unwrap();
        tx.replace_recovery_codes("u1", &[[3; 32]], NOW)
            .await
            .unwrap();
        assert!(!tx.use_recovery_code("u1", &[2; 32], NOW).await.unwrap());
        assert!(tx.use_recovery_code("u1", &[3; 32], NOW).await.unwrap());
        tx.commit().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_reset_clears_every_factor() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        tx.begin_totp_enrolment("u1", b"s", &A, NOW).await.unwrap();
        tx.replace_recovery_codes("u1", &[[1; 32]], NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.unused_recovery_codes("u1").await.unwrap(), 1);

        let mut tx = store.begin().await.unwrap();
        tx.delete_factors("u1").await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.totp_factor("u1").await.unwrap().is_none());
        assert_eq!(store.unused_recovery_codes("u1").await.unwrap(), 0);
    })
    .await;
}
