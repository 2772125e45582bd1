use super::*;

/// Retention used throughout: one hour of ID token plus five minutes of leeway.
const RETENTION: i64 = 3900;
/// The moment the second key is created by a rotation with one hour of publish-ahead.
const ROTATED: i64 = 1_800_000_000;
const ACTIVATES: i64 = ROTATED + 3600;

/// The two keys of one algorithm after `tessera keys rotate`: the first, created long ago,
/// retires when the second activates.
fn rotated_pair() -> [Timeline; 2] {
    [
        Timeline {
            activates_at: ROTATED - 86_400,
            retired_at: Some(ACTIVATES),
            generation: 1,
        },
        Timeline {
            activates_at: ACTIVATES,
            retired_at: None,
            generation: 2,
        },
    ]
}

fn at(now: i64) -> Vec<KeyStatus> {
    statuses(&rotated_pair(), now, RETENTION)
}

#[test]
fn a_new_key_is_upcoming_and_the_old_one_signs_until_activation() {
    assert_eq!(at(ROTATED), [KeyStatus::Active, KeyStatus::Upcoming]);
    assert_eq!(at(ACTIVATES - 1), [KeyStatus::Active, KeyStatus::Upcoming]);
    assert_eq!(signer(&rotated_pair(), ACTIVATES - 1, RETENTION), Some(0));
}

#[test]
fn at_activation_the_new_key_signs_and_the_old_one_is_retired() {
    assert_eq!(at(ACTIVATES), [KeyStatus::Retired, KeyStatus::Active]);
    assert_eq!(signer(&rotated_pair(), ACTIVATES, RETENTION), Some(1));
}

#[test]
fn a_retired_key_is_published_until_its_last_token_has_expired() {
    let last_token_expires = ACTIVATES + RETENTION;
    assert_eq!(
        at(last_token_expires - 1),
        [KeyStatus::Retired, KeyStatus::Active]
    );
    assert_eq!(
        at(last_token_expires),
        [KeyStatus::Removed, KeyStatus::Active]
    );
    assert!(!KeyStatus::Removed.is_published());
    assert!(KeyStatus::Retired.is_published());
    assert!(KeyStatus::Upcoming.is_published());
}

#[test]
fn immediate_activation_switches_at_once() {
    let keys = [
        Timeline {
            activates_at: 0,
            retired_at: Some(ROTATED),
            generation: 1,
        },
        Timeline {
            activates_at: ROTATED,
            retired_at: None,
            generation: 2,
        },
    ];
    assert_eq!(
        statuses(&keys, ROTATED - 1, RETENTION),
        [KeyStatus::Active, KeyStatus::Upcoming]
    );
    assert_eq!(
        statuses(&keys, ROTATED, RETENTION),
        [KeyStatus::Retired, KeyStatus::Active]
    );
}

#[test]
fn no_key_signs_when_every_key_is_retired() {
    let keys = [Timeline {
        activates_at: 0,
        retired_at: Some(ROTATED),
        generation: 1,
    }];
    assert_eq!(signer(&keys, ROTATED, RETENTION), None);
    assert_eq!(statuses(&keys, ROTATED, RETENTION), [KeyStatus::Retired]);
}

#[test]
fn of_two_unretired_activated_keys_the_newest_generation_signs() {
    // What several instances that started at once on an empty table used to leave behind.
    let twins = [
        Timeline {
            activates_at: 0,
            retired_at: None,
            generation: 1,
        },
        Timeline {
            activates_at: 0,
            retired_at: None,
            generation: 2,
        },
    ];
    assert_eq!(signer(&twins, ROTATED, RETENTION), Some(1));
    assert_eq!(
        statuses(&twins, ROTATED, RETENTION),
        [KeyStatus::Retired, KeyStatus::Active]
    );
}
