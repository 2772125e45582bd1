#![allow(clippy::unwrap_used, clippy::panic)]
//! The store's part in step-up: an interaction bound to the session it upgrades, and a
//! session taken (ended and returned) at most once, and only while it is live.

use tessera_store::testing::on_each_engine;
use tessera_store::{Interaction, NewUser, Session, Store};

const NOW: i64 = 1_800_000_000;
const SESSION: [u8; 32] = [5; 32];
const INTERACTION: [u8; 32] = [6; 32];

async fn seed_session(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    let user = NewUser {
        id: "u1",
        username: "alice",
        username_key: "alice",
        email: None,
        display_name: None,
        password_hash: None,
    };
    tx.insert_user(&user, NOW).await.unwrap();
    let session = Session {
        user_id: "u1".into(),
        auth_time: NOW - 60,
        amr: "pwd".into(),
        sid: Some("s1".into()),
        expires_at: NOW + 10,
        risk: None,
    };
    tx.insert_session(&SESSION, &session, NOW - 60)
        .await
        .unwrap();
    let interaction = Interaction {
        purpose: "authorization".into(),
        request: "{}".into(),
        authenticated_at: Some(NOW - 1),
        expires_at: NOW + 600,
        pending_user_id: None,
        password_verified_at: None,
        step_up_session: None,
        risk: None,
    };
    tx.insert_interaction(&INTERACTION, &interaction, NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// A step-up names the person, when they authenticated, and the session; it is no longer
/// a fresh login. A password given later in the interaction ends the binding, and so does
/// finishing the factor.
#[tokio::test]
async fn a_step_up_binds_the_interaction_to_its_session_until_it_ends() {
    on_each_engine(|store| async move {
        seed_session(&store).await;
        let mut tx = store.begin().await.unwrap();
        tx.set_interaction_step_up(&INTERACTION, "u1", &SESSION, NOW - 60)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let bound = store.interaction(&INTERACTION, NOW).await.unwrap().unwrap();
        assert_eq!(bound.pending_user_id.as_deref(), Some("u1"));
        assert_eq!(bound.password_verified_at, Some(NOW - 60));
        assert_eq!(bound.step_up_session.as_deref(), Some(SESSION.as_slice()));
        assert_eq!(bound.authenticated_at, None);

        let mut tx = store.begin().await.unwrap();
        tx.set_interaction_pending(&INTERACTION, "u1", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let password = store.interaction(&INTERACTION, NOW).await.unwrap().unwrap();
        assert_eq!(password.step_up_session, None);
        assert_eq!(password.password_verified_at, Some(NOW));

        let mut tx = store.begin().await.unwrap();
        tx.set_interaction_step_up(&INTERACTION, "u1", &SESSION, NOW - 60)
            .await
            .unwrap();
        assert!(tx
            .finish_second_factor(&INTERACTION, "u1", NOW)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let finished = store.interaction(&INTERACTION, NOW).await.unwrap().unwrap();
        assert_eq!(finished.step_up_session, None);
        assert_eq!(finished.pending_user_id, None);
        assert_eq!(finished.authenticated_at, Some(NOW));
    })
    .await;
}

/// A live session is taken once, with everything it recorded; an expired one is not.
#[tokio::test]
async fn a_session_is_taken_once_and_only_while_live() {
    on_each_engine(|store| async move {
        seed_session(&store).await;
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .take_live_session(&SESSION, NOW + 10)
            .await
            .unwrap()
            .is_none());
        let taken = tx.take_live_session(&SESSION, NOW).await.unwrap().unwrap();
        assert_eq!(taken.user_id, "u1");
        assert_eq!(taken.auth_time, NOW - 60);
        assert_eq!(taken.amr, "pwd");
        assert_eq!(taken.sid.as_deref(), Some("s1"));
        assert!(tx.take_live_session(&SESSION, NOW).await.unwrap().is_none());
        tx.commit().await.unwrap();
        assert!(store.session(&SESSION, NOW).await.unwrap().is_none());
    })
    .await;
}
