//! Brute-force defence: growing delays after failed secrets, shared through the database.
//!
//! Enforces (NIST SP 800-63B §5.2.2, rate limiting): every attempt at a guessable secret
//! — a password on the login page or the account page, a TOTP or recovery code, a client
//! secret or client assertion — is charged to two counters before the secret is checked:
//! its subject's (the normalised username, the account's codes, the client) and its source
//! address's (the audit address, which honours `trusted_proxies`; an IPv6 address by its
//! /64, since one host commonly holds a whole /64). After a few free failures each further
//! one doubles the delay before the next attempt, up to a cap; while a delay holds, the
//! attempt is refused without looking at the secret, so the right one does not get in
//! either. Nobody is locked out for good: once the delay passes, the owner may try again,
//! and an administrator can clear an account's counters at once ([`unthrottle_user`]).
//!
//! Why charge first: the counter is read and charged with one compare-and-swap
//! ([`Store::charge_throttle`]), so of many parallel attempts no more than the free
//! allowance reach the secret, whatever the engine and however many instances share it.
//! The price is that attempts still being checked count as failures for a moment; a
//! success gives its charge back.
//!
//! Why the subject and the address are settled differently on success: a right secret
//! clears its subject's counter (the owner proved who they are), but only refunds its own
//! charge on the address's, since one right password for an account of their own would
//! otherwise wipe out what an address had been guessing at everyone else's.
//!
//! Unknown usernames are counted by their normalised form exactly like known ones, so
//! neither the delays nor their messages tell which accounts exist.

use std::net::IpAddr;

use serde_json::json;
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Outcome, Store, ThrottleCounter, Tx};

use crate::accounts::AccountError;
use crate::secret::digest;
use crate::username::username_key;
use crate::{Provider, ProviderError, RequestContext};

/// How failures turn into delays; every default is the binary's configuration's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures of one account's password, or of its second-factor codes, allowed without
    /// any delay. Default 5.
    pub account_free_failures: i64,
    /// Failures of one client's authentication allowed without any delay. Higher than an
    /// account's: attempts still being checked count, and a busy client authenticates
    /// many requests at once. Default 20.
    pub client_free_failures: i64,
    /// Failures from one source address (IPv6: one /64), over every account and client,
    /// allowed without any delay. Default 20: several people may share an address.
    pub address_free_failures: i64,
    /// The delay after the first failure past the free ones, seconds; each further failure
    /// doubles it. Default 2.
    pub first_delay: i64,
    /// The longest delay, seconds. Default 900 (15 minutes).
    pub max_delay: i64,
    /// A counter with no failure for this long, seconds, starts again from zero (and the
    /// janitor removes it). Default 86400 (a day).
    pub forget_after: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            account_free_failures: 5,
            client_free_failures: 20,
            address_free_failures: 20,
            first_delay: 2,
            max_delay: 900,
            forget_after: 86_400,
        }
    }
}

impl ThrottleSettings {
    /// The wait, seconds, between the last of `failures` charged attempts and the next one,
    /// when `free` of them cost nothing.
    pub fn delay_after(&self, failures: i64, free: i64) -> i64 {
        let past_free = failures - free;
        if past_free < 0 {
            return 0;
        }
        // 2^62 seconds is past any cap; shifting further would overflow.
        let factor = 1_i64 << past_free.min(62);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// What to do with an attempt on a counter seen as `seen`: charge it, or wait.
    pub(crate) fn judge(&self, seen: Option<ThrottleCounter>, free: i64, now: i64) -> Verdict {
        let live = seen.filter(|c| now.saturating_sub(c.last_at) < self.forget_after);
        let failures = live.map_or(0, |c| c.failures);
        if let Some(counter) = live {
            let allowed_at = counter
                .last_at
                .saturating_add(self.delay_after(failures, free));
            if now < allowed_at {
                return Verdict::Wait(allowed_at - now);
            }
        }
        Verdict::Charge(ThrottleCounter {
            failures: failures + 1,
            last_at: now,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Set the counter to this and go ahead.
    Charge(ThrottleCounter),
    /// Refuse: the delay holds for this many more seconds.
    Wait(i64),
}

/// What a secret belongs to, for its own counter.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Subject<'a> {
    /// A password, by the username as typed (normalised here).
    Password(&'a str),
    /// An account's second-factor codes, by user id.
    Factor(&'a str),
    /// A client's secret or assertion, by client id.
    Client(&'a str),
}

/// The `kind` of the address counters.
const ADDRESS: &str = "address";

/// A counter's key: its kind and the digest of its subject.
#[derive(Clone, Copy, Debug)]
struct Key {
    kind: &'static str,
    subject: [u8; 32],
}

impl Subject<'_> {
    fn key(self) -> Key {
        let (kind, subject) = match self {
            // A username that cannot be normalised names no account; it is still counted,
            // as typed, so that it costs what any other guess costs.
            Self::Password(typed) => (
                "password",
                username_key(typed).unwrap_or_else(|_| typed.to_string()),
            ),
            Self::Factor(user_id) => ("factor", user_id.to_string()),
            Self::Client(client_id) => ("client", client_id.to_string()),
        };
        Key {
            kind,
            subject: digest(&subject),
        }
    }
}

/// The address counter's subject for a source address: an IPv4 address itself, an IPv6
/// address its /64 (an IPv4-mapped IPv6 address is the IPv4 address it maps).
pub fn address_subject(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match ipnet::Ipv6Net::new(v6, 64) {
            Ok(net) => net.trunc().to_string(),
            // A prefix of 64 is always valid for IPv6.
            Err(_) => v6.to_string(),
        },
    }
}

/// An attempt refused while a delay holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the next attempt will be taken.
    pub retry_after: i64,
    /// Which counter refused it, for the audit trail: the subject's kind or `address`.
    pub counter: &'static str,
}

impl Throttled {
    /// What the hosted pages say.
    pub fn message(&self) -> String {
        match self.retry_after {
            1 => "Too many failed attempts. Try again in 1 second.".to_string(),
            n => format!("Too many failed attempts. Try again in {n} seconds."),
        }
    }

    /// What a client calling an endpoint gets: `invalid_client`, since its authentication
    /// did not succeed (RFC 6749 §5.2 has no code for "slow down" at the token endpoint),
    /// answered with 429 and `Retry-After` (RFC 6585 §4) so that it knows when to come back.
    pub fn oauth_error(&self) -> OAuthError {
        let description = match self.retry_after {
            1 => "too many failed client authentications; try again in 1 second".to_string(),
            n => format!("too many failed client authentications; try again in {n} seconds"),
        };
        OAuthError::new(ErrorCode::InvalidClient, description)
            .retry_after(u64::try_from(self.retry_after).unwrap_or(1))
    }

    /// The audit detail of the refused attempt.
    pub(crate) fn detail(&self) -> serde_json::Value {
        json!({
            "reason": "throttled",
            "counter": self.counter,
            "retry_after": self.retry_after,
        })
    }
}

/// The attempts a request was charged; settled once its secret was checked.
#[derive(Debug)]
pub(crate) struct Charge {
    subject: Key,
    address: Option<Key>,
    /// The counters as they were before this charge, for risk scoring.
    prior: Prior,
}

/// A subject's and an address's counters as read before an attempt.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Prior {
    subject: Option<ThrottleCounter>,
    address: Option<ThrottleCounter>,
}

impl Prior {
    /// The failures on the subject, or from the address, whichever are more, counting a
    /// counter only when its last failure is less than `window` seconds old. A counter holds
    /// every failure since its subject's last success, so a burst that ended within the
    /// window counts whole.
    pub(crate) fn recent_failures(&self, window: i64, now: i64) -> i64 {
        let recent = |counter: Option<ThrottleCounter>| {
            counter
                .filter(|c| now.saturating_sub(c.last_at) < window)
                .map_or(0, |c| c.failures)
        };
        recent(self.subject).max(recent(self.address))
    }
}

impl Charge {
    /// The counters this attempt found, before its own charge.
    pub(crate) fn prior(&self) -> Prior {
        self.prior
    }

    /// The secret was right: the subject's counter starts again, and the address gets back
    /// this attempt's charge.
    pub(crate) async fn succeeded(&self, tx: &mut Tx) -> Result<(), ProviderError> {
        tx.clear_throttle(self.subject.kind, &self.subject.subject)
            .await?;
        if let Some(address) = &self.address {
            tx.refund_throttle(address.kind, &address.subject).await?;
        }
        Ok(())
    }

    /// The secret was never checked: both charges are given back.
    pub(crate) async fn refund(&self, store: &Store) -> Result<(), ProviderError> {
        let mut tx = store.begin().await?;
        tx.refund_throttle(self.subject.kind, &self.subject.subject)
            .await?;
        if let Some(address) = &self.address {
            tx.refund_throttle(address.kind, &address.subject).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Compare-and-swap rounds one charge may take: each lost round means another request's
/// charge went in, so many rounds mean a crowd, and the crowd is refused.
const MAX_ROUNDS: usize = 64;

/// Charges one attempt to `key`, or says how long to wait; returns the counter as it was
/// before the charge.
async fn charge_one(
    store: &Store,
    settings: &ThrottleSettings,
    key: Key,
    free: i64,
    now: i64,
) -> Result<Result<Option<ThrottleCounter>, i64>, ProviderError> {
    for _ in 0..MAX_ROUNDS {
        let seen = store.throttle_counter(key.kind, &key.subject).await?;
        let next = match settings.judge(seen, free, now) {
            Verdict::Charge(next) => next,
            Verdict::Wait(seconds) => return Ok(Err(seconds)),
        };
        if store
            .charge_throttle(key.kind, &key.subject, seen, next)
            .await?
        {
            return Ok(Ok(seen));
        }
    }
    Ok(Err(settings.first_delay.max(1)))
}

/// A check of a client's delays that charged nothing; see [`Provider::client_delay`].
#[derive(Debug)]
pub(crate) struct Unblocked {
    /// The client's counter, when it holds failures that a right secret clears.
    subject: Option<Key>,
}

impl Unblocked {
    /// The secret was right: the client's failures are forgotten (a write only when there
    /// were some).
    pub(crate) async fn succeeded(&self, store: &Store) -> Result<(), ProviderError> {
        if let Some(key) = &self.subject {
            let mut tx = store.begin().await?;
            tx.clear_throttle(key.kind, &key.subject).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

/// Whether `key`'s delay holds at `now`, by one read; and whether it holds failures.
async fn delay_of(
    store: &Store,
    settings: &ThrottleSettings,
    key: Key,
    free: i64,
    now: i64,
) -> Result<(Option<i64>, bool), ProviderError> {
    let seen = store.throttle_counter(key.kind, &key.subject).await?;
    let failing = seen.as_ref().is_some_and(|c| c.failures > 0);
    match settings.judge(seen, free, now) {
        Verdict::Wait(seconds) => Ok((Some(seconds), failing)),
        Verdict::Charge(_) => Ok((None, failing)),
    }
}

impl Provider {
    /// For a client's secret or signed assertion: refuses while the client's or the
    /// address's delay holds, and otherwise charges nothing. Neither can be guessed (a
    /// secret carries 256 random bits, an assertion a signature), so charging each attempt
    /// before its check, as passwords are, buys nothing against guessing; and it cost a busy
    /// client two contended writes per call (client credentials on PostgreSQL, 32
    /// connections: 3379 requests/s before the throttle, 376 with charge-first, and 429s
    /// once the writes queued). A failure is charged after its check
    /// ([`Provider::take_attempt`]), so a burst of wrong guesses can pass the allowance by
    /// the size of the burst, no more.
    pub(crate) async fn client_delay(
        &self,
        client_id: &str,
        ctx: &RequestContext,
        now: i64,
    ) -> Result<Result<Unblocked, Throttled>, ProviderError> {
        let settings = &self.inner.settings.throttle;
        let store = &self.inner.store;
        let key = Subject::Client(client_id).key();
        let (wait, failing) =
            delay_of(store, settings, key, settings.client_free_failures, now).await?;
        if let Some(retry_after) = wait {
            return Ok(Err(Throttled {
                retry_after,
                counter: key.kind,
            }));
        }
        let address = ctx
            .source_ip
            .as_deref()
            .and_then(|text| text.parse::<IpAddr>().ok());
        if let Some(ip) = address {
            let address = Key {
                kind: ADDRESS,
                subject: digest(&address_subject(ip)),
            };
            let free = settings.address_free_failures;
            if let (Some(retry_after), _) = delay_of(store, settings, address, free, now).await? {
                return Ok(Err(Throttled {
                    retry_after,
                    counter: ADDRESS,
                }));
            }
        }
        Ok(Ok(Unblocked {
            subject: failing.then_some(key),
        }))
    }

    /// Charges an attempt at `subject`'s secret; see [`take_attempt`].
    pub(crate) async fn take_attempt(
        &self,
        subject: Subject<'_>,
        ctx: &RequestContext,
        now: i64,
    ) -> Result<Result<Charge, Throttled>, ProviderError> {
        let settings = &self.inner.settings.throttle;
        let source = ctx.source_ip.as_deref();
        take_attempt(&self.inner.store, settings, subject, source, now).await
    }
}

/// Charges an attempt at `subject`'s secret to its counter and to the counter of the
/// `source` address, before the secret is checked; or, while either's delay holds, refuses
/// it. A source that is not an address (none is known) has no counter.
pub(crate) async fn take_attempt(
    store: &Store,
    settings: &ThrottleSettings,
    subject: Subject<'_>,
    source: Option<&str>,
    now: i64,
) -> Result<Result<Charge, Throttled>, ProviderError> {
    let free = match subject {
        Subject::Client(_) => settings.client_free_failures,
        Subject::Password(_) | Subject::Factor(_) => settings.account_free_failures,
    };
    let key = subject.key();
    let seen = match charge_one(store, settings, key, free, now).await? {
        Ok(seen) => seen,
        Err(retry_after) => {
            return Ok(Err(Throttled {
                retry_after,
                counter: key.kind,
            }))
        }
    };

    let address = source
        .and_then(|text| text.parse::<IpAddr>().ok())
        .map(|ip| Key {
            kind: ADDRESS,
            subject: digest(&address_subject(ip)),
        });
    let Some(address) = address else {
        return Ok(Ok(Charge {
            subject: key,
            address: None,
            prior: Prior {
                subject: seen,
                address: None,
            },
        }));
    };
    let free = settings.address_free_failures;
    let address_seen = match charge_one(store, settings, address, free, now).await? {
        Ok(address_seen) => address_seen,
        Err(retry_after) => {
            // The subject's charge goes back: its secret will not be checked.
            let mut tx = store.begin().await?;
            tx.refund_throttle(key.kind, &key.subject).await?;
            tx.commit().await?;
            return Ok(Err(Throttled {
                retry_after,
                counter: ADDRESS,
            }));
        }
    };
    Ok(Ok(Charge {
        subject: key,
        address: Some(address),
        prior: Prior {
            subject: seen,
            address: address_seen,
        },
    }))
}

impl Provider {
    /// The counters of a password login's subject (`username`) and address, read without
    /// charging anything: what a login that checked no password (a passkey alone) finds.
    pub(crate) async fn throttle_prior(
        &self,
        username: &str,
        ctx: &RequestContext,
    ) -> Result<Prior, ProviderError> {
        let store = &self.inner.store;
        let key = Subject::Password(username).key();
        let subject = store.throttle_counter(key.kind, &key.subject).await?;
        let address = match ctx
            .source_ip
            .as_deref()
            .and_then(|t| t.parse::<IpAddr>().ok())
        {
            Some(ip) => {
                let digest = digest(&address_subject(ip));
                store.throttle_counter(ADDRESS, &digest).await?
            }
            None => None,
        };
        Ok(Prior { subject, address })
    }
}

/// Clears the counters of a person's password and second-factor codes, as an administrator
/// does for someone the delays keep out; returns how many counters there were. The address
/// counters stay: they hold what an address did to everyone.
pub async fn unthrottle_user(store: &Store, username: &str, now: i64) -> Result<u64, AccountError> {
    let key = username_key(username)?;
    let user = store
        .user_by_username_key(&key)
        .await?
        .ok_or(AccountError::NoSuchUser)?;

    let mut tx = store.begin().await?;
    let mut cleared = 0;
    for subject in [Subject::Password(&key), Subject::Factor(&user.id)] {
        let key = subject.key();
        if tx.clear_throttle(key.kind, &key.subject).await? {
            cleared += 1;
        }
    }
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "user.unthrottle",
        outcome: Outcome::Success,
        user_id: Some(user.id.clone()),
        detail: json!({ "cleared_counters": cleared }),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(cleared)
}

#[cfg(test)]
mod tests;
