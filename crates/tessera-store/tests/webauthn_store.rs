#![allow(clippy::unwrap_used, clippy::panic)]
//! WebAuthn in the store: ceremonies are taken once and never after they expire; a
//! credential id is registered once; a use is recorded only over the counter it was checked
//! against; a person keeps the user handle first given. Each on both engines.

use tessera_store::testing::on_each_engine;
use tessera_store::{NewUser, NewWebauthnCredential, Store, WebauthnUse};

const NOW: i64 = 1_800_000_000;
/// An interaction's hash.
const OWNER: [u8; 32] = [0xa; 32];

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

fn credential<'a>(id: &'a [u8], user_id: &'a str) -> NewWebauthnCredential<'a> {
    NewWebauthnCredential {
        credential_id: id,
        user_id,
        name: "Security key",
        passkey: "{}",
        sign_count: 0,
        backup_eligible: false,
        backed_up: false,
    }
}

#[tokio::test]
async fn a_ceremony_is_taken_once() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        tx.put_webauthn_ceremony(&OWNER, "enrol", Some("u1"), "state", NOW + 600)
            .await
            .unwrap();
        let taken = tx
            .take_webauthn_ceremony(&OWNER, "enrol", NOW)
            .await
            .unwrap();
        let taken = taken.unwrap();
        assert_eq!(taken.state, "state");
        assert_eq!(taken.user_id.as_deref(), Some("u1"));
        let again = tx
            .take_webauthn_ceremony(&OWNER, "enrol", NOW)
            .await
            .unwrap();
        assert!(again.is_none());
        tx.commit().await.unwrap();
    })
    .await;
}

/// A new ceremony of the same owner and purpose replaces the old: only the latest challenge
/// can be answered. Another purpose is kept apart.
#[tokio::test]
async fn a_new_ceremony_replaces_the_last_of_its_purpose() {
    on_each_engine(|store| async move {
        let mut tx = store.begin().await.unwrap();
        for (purpose, state) in [
            ("passwordless", "first"),
            ("passwordless", "second"),
            ("second_factor", "other"),
        ] {
            tx.put_webauthn_ceremony(&OWNER, purpose, None, state, NOW + 600)
                .await
                .unwrap();
        }
        let taken = tx
            .take_webauthn_ceremony(&OWNER, "passwordless", NOW)
            .await
            .unwrap();
        assert_eq!(taken.unwrap().state, "second");
        let other = tx
            .take_webauthn_ceremony(&OWNER, "second_factor", NOW)
            .await
            .unwrap();
        assert_eq!(other.unwrap().state, "other");
        tx.commit().await.unwrap();
    })
    .await;
}

/// An expired ceremony cannot be answered, and the janitor removes the ones nobody took.
#[tokio::test]
async fn an_expired_ceremony_is_never_answered() {
    on_each_engine(|store| async move {
        let mut tx = store.begin().await.unwrap();
        tx.put_webauthn_ceremony(&OWNER, "passwordless", None, "state", NOW)
            .await
            .unwrap();
        let taken = tx
            .take_webauthn_ceremony(&OWNER, "passwordless", NOW)
            .await
            .unwrap();
        assert!(taken.is_none(), "expires_at is not after now");
        tx.put_webauthn_ceremony(&OWNER, "second_factor", None, "state", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert!(store.purge_expired(NOW).await.unwrap() >= 1);
        let mut tx = store.begin().await.unwrap();
        let left = tx
            .take_webauthn_ceremony(&OWNER, "second_factor", NOW - 1)
            .await
            .unwrap();
        assert!(left.is_none(), "purged");
        tx.commit().await.unwrap();
    })
    .await;
}

/// W3C WebAuthn L2 §7.1 step 22: a credential id registered to anyone is refused, and the
/// transaction stays usable (PostgreSQL aborts a transaction on a failed INSERT).
#[tokio::test]
async fn a_credential_id_is_registered_once() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        seed_user(&store, "u2").await;
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .insert_webauthn_credential(&credential(b"key", "u1"), NOW)
            .await
            .unwrap());
        assert!(!tx
            .insert_webauthn_credential(&credential(b"key", "u2"), NOW)
            .await
            .unwrap());
        assert!(tx
            .take_webauthn_ceremony(&OWNER, "enrol", NOW)
            .await
            .is_ok());
        tx.commit().await.unwrap();

        assert!(store.has_webauthn_credential("u1").await.unwrap());
        assert!(!store.has_webauthn_credential("u2").await.unwrap());
    })
    .await;
}

/// A use is recorded only over the counter read before the check: of two assertions that
/// read the same counter, the second changes nothing.
#[tokio::test]
async fn a_use_is_recorded_only_over_the_counter_it_was_checked_against() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_webauthn_credential(&credential(b"key", "u1"), NOW)
            .await
            .unwrap();
        let used = |sign_count| WebauthnUse {
            credential_id: b"key",
            read_sign_count: 0,
            sign_count,
            passkey: "{\"used\":true}",
            backup_eligible: true,
            backed_up: true,
            now: NOW + 5,
        };
        assert!(tx.record_webauthn_use(&used(7)).await.unwrap());
        assert!(!tx.record_webauthn_use(&used(8)).await.unwrap());
        tx.commit().await.unwrap();

        let record = store.webauthn_credential(b"key").await.unwrap().unwrap();
        assert_eq!(record.sign_count, 7);
        assert_eq!(record.passkey, "{\"used\":true}");
        assert!(record.backup_eligible && record.backed_up);
        assert_eq!(record.last_used_at, Some(NOW + 5));
    })
    .await;
}

#[tokio::test]
async fn a_person_keeps_the_first_user_handle_given() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        let first = tx.ensure_webauthn_handle("u1", "h-1", NOW).await.unwrap();
        let second = tx.ensure_webauthn_handle("u1", "h-2", NOW).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!((first.as_str(), second.as_str()), ("h-1", "h-1"));
        let owner = store.user_id_by_webauthn_handle("h-1").await.unwrap();
        assert_eq!(owner.as_deref(), Some("u1"));
        assert_eq!(store.user_id_by_webauthn_handle("h-2").await.unwrap(), None);
    })
    .await;
}

/// Rename and remove touch only the named person's credential.
#[tokio::test]
async fn rename_and_remove_act_only_on_the_owners_credential() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        seed_user(&store, "u2").await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_webauthn_credential(&credential(b"key", "u1"), NOW)
            .await
            .unwrap();
        assert!(!tx
            .rename_webauthn_credential("u2", b"key", "Mine")
            .await
            .unwrap());
        assert!(!tx.delete_webauthn_credential("u2", b"key").await.unwrap());
        assert!(tx
            .rename_webauthn_credential("u1", b"key", "Laptop")
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let listed = store.webauthn_credentials("u1").await.unwrap();
        assert_eq!(listed[0].name, "Laptop");

        let mut tx = store.begin().await.unwrap();
        assert!(tx.delete_webauthn_credential("u1", b"key").await.unwrap());
        tx.commit().await.unwrap();
        assert!(store.webauthn_credentials("u1").await.unwrap().is_empty());
    })
    .await;
}

/// What counts as a second factor, read inside a transaction: a confirmed TOTP app or a
/// credential; an unconfirmed TOTP secret and recovery codes alone do not.
#[tokio::test]
async fn a_credential_or_a_confirmed_app_is_a_second_factor() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        let mut tx = store.begin().await.unwrap();
        assert!(!tx.holds_second_factor("u1").await.unwrap());
        tx.replace_recovery_codes("u1", &[[1; 32]], NOW)
            .await
            .unwrap();
        assert!(tx
            .begin_totp_enrolment("u1", b"s", &OWNER, NOW)
            .await
            .unwrap());
        assert!(!tx.holds_second_factor("u1").await.unwrap());

        assert!(tx
            .confirm_totp_enrolment("u1", &OWNER, 1, NOW)
            .await
            .unwrap());
        assert!(tx.holds_second_factor("u1").await.unwrap());
        assert!(tx.delete_totp_factor("u1").await.unwrap());
        assert!(!tx.holds_second_factor("u1").await.unwrap());

        assert!(tx
            .insert_webauthn_credential(&credential(b"key", "u1"), NOW)
            .await
            .unwrap());
        assert!(tx.holds_second_factor("u1").await.unwrap());
        tx.commit().await.unwrap();
    })
    .await;
}
