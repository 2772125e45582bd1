//! The life of a signing key, as a function of the clock: no I/O, so every transition is
//! tested with a fixed "now".
//!
//! OIDC Core §10.1.1: a provider rotates keys by publishing the new one in its JWKS before
//! using it, and keeps publishing the old one while tokens it signed may still be checked.
//! Here that is four states:
//!
//! | state    | when                                              | in JWKS | signs | verifies |
//! |----------|---------------------------------------------------|---------|-------|----------|
//! | upcoming | `now < activates_at`                              | yes     | no    | yes      |
//! | active   | the newest activated key that is not retired      | yes     | yes   | yes      |
//! | retired  | activated, but retired or superseded              | yes     | no    | yes      |
//! | removed  | `retired_at + retention <= now`                   | no      | no    | no       |
//!
//! Retention is the longest lifetime of anything a key signs (see
//! [`crate::Settings::key_retention`]), so a token signed in the last second before its key
//! retired can still be checked until it expires.

/// Where a key is in its life at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Upcoming,
    Active,
    Retired,
    Removed,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Removed => "removed",
        }
    }

    /// Whether the key belongs in JWKS and may verify a token.
    pub fn is_published(self) -> bool {
        self != Self::Removed
    }
}

/// The times that decide a key's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeline {
    pub activates_at: i64,
    pub retired_at: Option<i64>,
    /// Orders keys of one algorithm; the newer generation wins a tie on `activates_at`.
    pub generation: i64,
}

impl Timeline {
    /// When the key leaves JWKS and stops verifying, if it has been retired.
    pub fn removed_at(&self, retention: i64) -> Option<i64> {
        self.retired_at.map(|at| at.saturating_add(retention))
    }

    /// Whether the key has left JWKS and verifies nothing at `now`.
    pub fn is_removed(&self, now: i64, retention: i64) -> bool {
        self.removed_at(retention).is_some_and(|at| at <= now)
    }

    fn has_activated(&self, now: i64) -> bool {
        self.activates_at <= now
    }

    fn is_retired(&self, now: i64) -> bool {
        self.retired_at.is_some_and(|at| at <= now)
    }
}

/// Index of the key that signs at `now` among `keys`, all of one algorithm: the newest
/// activated key that is neither retired nor removed. `None` when no key may sign; the
/// caller then creates one rather than sign with a key that is on its way out.
pub fn signer(keys: &[Timeline], now: i64, retention: i64) -> Option<usize> {
    keys.iter()
        .enumerate()
        .filter(|(_, key)| key.has_activated(now))
        .filter(|(_, key)| !key.is_retired(now))
        .filter(|(_, key)| !key.is_removed(now, retention))
        .max_by_key(|(_, key)| (key.activates_at, key.generation))
        .map(|(index, _)| index)
}

/// The state of each of `keys` (all of one algorithm) at `now`, in the same order.
pub fn statuses(keys: &[Timeline], now: i64, retention: i64) -> Vec<KeyStatus> {
    let active = signer(keys, now, retention);
    keys.iter()
        .enumerate()
        .map(|(index, key)| {
            if key.is_removed(now, retention) {
                KeyStatus::Removed
            } else if !key.has_activated(now) {
                KeyStatus::Upcoming
            } else if Some(index) == active {
                KeyStatus::Active
            } else {
                KeyStatus::Retired
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
