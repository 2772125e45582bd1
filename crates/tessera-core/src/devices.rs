//! A person's devices and the sessions opened from each, as the account page and the admin
//! API show them, and ending a device or a session for either of them.
//!
//! Enforces:
//! - a device is looked up through its person: device rows are per person (the same browser
//!   is a separate device for each person who signs in on it), so another person's device,
//!   whatever its id, is not found, exactly like one that never existed;
//! - ending a session deletes it if it is still live and revokes what was issued through it
//!   (the refresh-token families that carry its `sid`, their access tokens, its unredeemed
//!   codes): [`end_sessions`], shared by the account page and the admin API;
//! - ending a device forgets it and ends every session opened from it, expired ones
//!   included, since refresh tokens outlive the session they were issued through
//!   ([`end_device`]);
//! - the apps that live ended sessions served are sent back-channel logout tokens (Back-Channel
//!   Logout 1.0 §2.7), prepared before the transaction and queued within it.
//!
//! Callers write the change and its audit event in one transaction.

mod user_agent;

use tessera_store::{Device, Revoked, SessionSummary, StoreError, Tx};

use crate::backchannel::LogoutNotices;
use crate::{Provider, ProviderError};

pub use user_agent::{describe, Software};

/// A device of a person, with what it runs and its live sessions.
#[derive(Clone, Debug)]
pub struct DeviceSummary {
    /// The public id, 32 lowercase hex characters (see [`crate::device`]).
    pub device_id: String,
    /// The `User-Agent` of its latest login, as sent.
    pub user_agent: Option<String>,
    /// The browser and system that user agent names.
    pub software: Software,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    /// The source address of its latest login.
    pub last_ip: Option<String>,
    /// Roughly where that address is, when a GeoIP database says.
    pub location: Option<String>,
    /// Its sessions live now, oldest first.
    pub sessions: Vec<DeviceSession>,
}

/// A live session opened from a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSession {
    /// The public session id, as the `sid` claim gives it to clients.
    pub sid: String,
    pub created_at: i64,
    /// When the person last authenticated in it (OIDC Core §2 `auth_time`).
    pub auth_time: i64,
    pub expires_at: i64,
    /// How they authenticated (RFC 8176 method references).
    pub amr: Vec<String>,
}

impl DeviceSession {
    fn of(session: SessionSummary) -> Self {
        Self {
            amr: session.amr.split_whitespace().map(str::to_string).collect(),
            sid: session.sid,
            created_at: session.created_at,
            auth_time: session.auth_time,
            expires_at: session.expires_at,
        }
    }
}

/// What ending sessions took away.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SessionsEnded {
    /// Sessions that were still live.
    pub sessions: u64,
    pub revoked: Revoked,
}

/// Ends the person's sessions `sids`: deletes each one still live, and revokes what each
/// issued, live or not. Within `tx`, so the caller's audit event commits with it.
pub(crate) async fn end_sessions(
    tx: &mut Tx,
    user_id: &str,
    sids: &[String],
    now: i64,
) -> Result<SessionsEnded, StoreError> {
    let mut ended = SessionsEnded::default();
    for sid in sids {
        if tx.end_session_by_sid(user_id, sid, now).await? {
            ended.sessions += 1;
        }
        let revoked = tx.revoke_session_tokens(user_id, sid, now).await?;
        ended.revoked.refresh_tokens += revoked.refresh_tokens;
        ended.revoked.access_tokens += revoked.access_tokens;
    }
    Ok(ended)
}

/// Forgets the person's device and ends every session opened from it, then queues
/// `notices`; `None`, with nothing changed, when the person has no such device.
pub(crate) async fn end_device(
    tx: &mut Tx,
    user_id: &str,
    device_id: &str,
    notices: &LogoutNotices,
    now: i64,
) -> Result<Option<SessionsEnded>, StoreError> {
    let Some(sids) = tx.forget_device(user_id, device_id).await? else {
        return Ok(None);
    };
    let ended = end_sessions(tx, user_id, &sids, now).await?;
    notices.queue(tx, now).await?;
    Ok(Some(ended))
}

impl Provider {
    /// Roughly where `ip` is ("Lyon, France"), for people to recognise their devices: from
    /// the GeoIP database risk scoring uses, and `None` without one.
    pub fn approximate_location(&self, ip: &str) -> Option<String> {
        let address = ip.parse().ok()?;
        self.geoip()?.locate(address).in_words()
    }

    /// The person's devices, the most recently seen first, each with its live sessions.
    pub(crate) async fn devices_of(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<DeviceSummary>, ProviderError> {
        let store = &self.inner.store;
        let sessions = store.live_device_sessions(user_id, now).await?;
        let devices = store.devices(user_id).await?;
        Ok(self.summaries(devices, sessions))
    }

    /// The person's `devices` (as the store read them), each with its live sessions.
    pub(crate) async fn with_live_sessions(
        &self,
        user_id: &str,
        devices: Vec<Device>,
        now: i64,
    ) -> Result<Vec<DeviceSummary>, ProviderError> {
        let ids: Vec<&str> = devices.iter().map(|d| d.device_id.as_str()).collect();
        let sessions = self
            .inner
            .store
            .live_sessions_from(user_id, &ids, now)
            .await?;
        Ok(self.summaries(devices, sessions))
    }

    /// Each device, in order, with what it runs, where it roughly is, and its own sessions
    /// taken from `sessions`.
    fn summaries(
        &self,
        devices: Vec<Device>,
        mut sessions: Vec<SessionSummary>,
    ) -> Vec<DeviceSummary> {
        devices
            .into_iter()
            .map(|device| {
                let own = take_where(&mut sessions, |s| {
                    s.device_id.as_deref() == Some(device.device_id.as_str())
                });
                DeviceSummary {
                    software: device
                        .user_agent
                        .as_deref()
                        .map(describe)
                        .unwrap_or_default(),
                    location: device
                        .last_ip
                        .as_deref()
                        .and_then(|ip| self.approximate_location(ip)),
                    device_id: device.device_id,
                    user_agent: device.user_agent,
                    first_seen_at: device.first_seen_at,
                    last_seen_at: device.last_seen_at,
                    last_ip: device.last_ip,
                    sessions: own.into_iter().map(DeviceSession::of).collect(),
                }
            })
            .collect()
    }

    /// The logout tokens owed for the live sessions opened from the person's device.
    pub(crate) async fn device_logout_notices(
        &self,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<LogoutNotices, ProviderError> {
        let store = &self.inner.store;
        let live = store.live_sessions_from(user_id, &[device_id], now).await?;
        let sids = live.into_iter().map(|s| s.sid).collect();
        self.logout_notices(user_id, sids, now).await
    }
}

/// Moves the items that match `keep` out of `items`, in order.
fn take_where<T>(items: &mut Vec<T>, keep: impl Fn(&T) -> bool) -> Vec<T> {
    let (taken, rest) = std::mem::take(items)
        .into_iter()
        .partition(|item| keep(item));
    *items = rest;
    taken
}
