use super::*;

fn session(auth_time: i64, amr: &str) -> Session {
    Session {
        user_id: "u1".into(),
        auth_time,
        amr: amr.into(),
        sid: None,
        expires_at: auth_time + 43_200,
        risk: None,
    }
}

const NOW: i64 = 1_800_000_000;

/// Rule 1: the last authentication is at most the window old, the edge included.
#[test]
fn a_session_is_recent_up_to_the_window_and_not_a_second_after() {
    assert!(authenticated_recently(&session(NOW, "pwd"), NOW, 300));
    assert!(authenticated_recently(&session(NOW - 300, "pwd"), NOW, 300));
    assert!(!authenticated_recently(
        &session(NOW - 301, "pwd"),
        NOW,
        300
    ));
    // A clock a little behind another instance's does not make a session stale.
    assert!(authenticated_recently(&session(NOW + 5, "pwd"), NOW, 300));
}

/// Rule 2: with a second factor held, only a session that used one (RFC 8176 "mfa") will do;
/// without one, the password alone is all there is to use.
#[test]
fn a_person_with_a_factor_needs_a_session_that_used_one() {
    assert!(!used_the_factor_held(&session(NOW, "pwd"), true));
    assert!(used_the_factor_held(&session(NOW, "pwd otp mfa"), true));
    assert!(used_the_factor_held(&session(NOW, "pwd mfa"), true));
    assert!(used_the_factor_held(&session(NOW, "pwd"), false));
}

#[test]
fn the_window_is_said_in_words() {
    assert_eq!(in_words(300), "5 minutes");
    assert_eq!(in_words(60), "1 minute");
    assert_eq!(in_words(90), "90 seconds");
    assert_eq!(in_words(1), "1 second");
}

/// A notice shows only with the proof made for it and for this session.
#[test]
fn a_notice_needs_its_own_proof_for_this_session() {
    let proof = Notice::PasswordChanged.proof("session-a");
    assert_eq!(
        Notice::verified("session-a", "password_changed", &proof),
        Some(Notice::PasswordChanged)
    );
    assert_eq!(
        Notice::verified("session-b", "password_changed", &proof),
        None
    );
    assert_eq!(Notice::verified("session-a", "totp_removed", &proof), None);
    assert_eq!(Notice::verified("session-a", "password_changed", ""), None);
    assert_eq!(Notice::verified("session-a", "unknown", &proof), None);
}

#[test]
fn every_notice_reads_back_from_its_name() {
    for notice in Notice::ALL {
        let proof = notice.proof("s");
        assert_eq!(Notice::verified("s", notice.as_str(), &proof), Some(notice));
    }
}

#[test]
fn details_keep_the_base_and_add_the_extra_members() {
    let detail = merged(json!({ "via": "account" }), json!({ "reason": "csrf" }));
    assert_eq!(detail, json!({ "via": "account", "reason": "csrf" }));
}
