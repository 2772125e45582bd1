#![allow(clippy::unwrap_used, clippy::panic)]
//! A person's devices in pages, and the live sessions of some of them, on SQLite and (when
//! configured) PostgreSQL alike.

use tessera_store::testing::on_each_engine;
use tessera_store::{DeviceVisit, DevicesAfter, NewUser, Session, Store};

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
    tx.insert_user(&user, NOW - 86_400).await.unwrap();
    tx.commit().await.unwrap();
}

/// A login of `user_id` from `device_id` at `at`, opening the session `sid`, which lives
/// until `expires_at`.
async fn login(store: &Store, user_id: &str, device_id: &str, sid: &str, at: i64, expires_at: i64) {
    // The session cookie's hash: anything unique per session will do here.
    let handle: Vec<u8> = sid.bytes().cycle().take(32).collect();
    let session = Session {
        user_id: user_id.into(),
        auth_time: at,
        amr: "pwd".into(),
        sid: Some(sid.into()),
        expires_at,
        risk: None,
    };
    let visit = DeviceVisit {
        user_id,
        device_id,
        user_agent: None,
        ip: None,
        sid,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&handle, &session, at).await.unwrap();
    tx.touch_device(&visit, at).await.unwrap();
    tx.commit().await.unwrap();
}

/// The ids of one page of `user_id`'s devices after `after`, two at a time.
async fn page(store: &Store, user_id: &str, after: Option<(i64, &str)>) -> Vec<(i64, String)> {
    let after = after.map(|(last_seen_at, id)| DevicesAfter {
        last_seen_at,
        device_id: id.to_string(),
    });
    let devices = store
        .devices_page(user_id, after.as_ref(), 2)
        .await
        .unwrap();
    devices
        .into_iter()
        .map(|d| (d.last_seen_at, d.device_id))
        .collect()
}

fn ids(page: &[(i64, String)]) -> Vec<&str> {
    page.iter().map(|(_, id)| id.as_str()).collect()
}

/// The most recently seen first, and among devices seen in the same second, by id: three
/// devices share NOW, and each page starts right after the last device of the one before,
/// so none is skipped or repeated. Another person's devices never appear.
#[tokio::test]
async fn devices_come_in_pages_in_a_total_order() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        seed_user(&store, "u2").await;
        let seen = [
            ("d3", NOW),
            ("d1", NOW),
            ("d4", NOW - 10),
            ("d5", NOW + 5),
            ("d2", NOW),
        ];
        for (i, (device, at)) in seen.into_iter().enumerate() {
            login(&store, "u1", device, &format!("s{i}"), at, at + 3600).await;
        }
        login(&store, "u2", "d0", "t0", NOW, NOW + 3600).await;

        let first = page(&store, "u1", None).await;
        assert_eq!(ids(&first), ["d5", "d1"]);
        let second = page(&store, "u1", Some((NOW, "d1"))).await;
        assert_eq!(ids(&second), ["d2", "d3"]);
        let third = page(&store, "u1", Some((NOW, "d3"))).await;
        assert_eq!(third, [(NOW - 10, "d4".to_string())]);
        assert!(page(&store, "u1", Some((NOW - 10, "d4"))).await.is_empty());

        assert_eq!(ids(&page(&store, "u2", None).await), ["d0"]);
    })
    .await;
}

/// The live sessions of the devices asked for, oldest first: not those of the person's other
/// devices, not an expired one, and not another person's from a device with the same id.
#[tokio::test]
async fn live_sessions_are_read_for_the_devices_asked_for() {
    on_each_engine(|store| async move {
        seed_user(&store, "u1").await;
        seed_user(&store, "u2").await;
        login(&store, "u1", "d1", "s-b", NOW - 20, NOW + 3600).await;
        login(&store, "u1", "d1", "s-a", NOW - 10, NOW + 3600).await;
        login(&store, "u1", "d1", "s-dead", NOW - 5, NOW).await;
        login(&store, "u1", "d2", "s-c", NOW - 30, NOW + 3600).await;
        login(&store, "u2", "d1", "s-theirs", NOW - 40, NOW + 3600).await;

        let sids = |sessions: Vec<tessera_store::SessionSummary>| -> Vec<String> {
            sessions.into_iter().map(|s| s.sid).collect()
        };
        let d1 = store.live_sessions_from("u1", &["d1"], NOW).await.unwrap();
        assert!(d1.iter().all(|s| s.device_id.as_deref() == Some("d1")));
        assert_eq!(sids(d1), ["s-b", "s-a"]);
        let both = store
            .live_sessions_from("u1", &["d1", "d2"], NOW)
            .await
            .unwrap();
        assert_eq!(sids(both), ["s-c", "s-b", "s-a"]);
        let theirs = store.live_sessions_from("u2", &["d1"], NOW).await.unwrap();
        assert_eq!(sids(theirs), ["s-theirs"]);
        assert!(store
            .live_sessions_from("u1", &["d9"], NOW)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .live_sessions_from("u1", &[], NOW)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}
