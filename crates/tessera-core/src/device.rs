//! The device cookie: a long-lived, signed name for a browser.
//!
//! A browser is told a random 256-bit value and a MAC of it under a key derived from the key
//! encryption key, as `value.mac` in a cookie that lives the longest time browsers keep one
//! (400 days, RFC 6265bis §5.5). Only the device's public id, a truncated SHA-256 of the
//! value, is ever stored, logged or shown: it names the device without being able to
//! recreate the cookie. The MAC means a device id can only be one Tessera issued: a client
//! cannot pick its own, or pass off a made-up value as a device already known.
//!
//! A device is a signal, not a credential: it never authenticates anyone. It lets the risk
//! score tell a browser a person used before from a new one, and lets people and admins see
//! and end what was signed in from where.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_store::{DeviceVisit, Session, Tx};

use crate::keys::KeyEncryptionKey;
use crate::secret::RandomSecret;
use crate::{Provider, ProviderError, RequestContext};

/// How long a browser keeps the device cookie, seconds: the cap of RFC 6265bis §5.5.
pub const DEVICE_COOKIE_MAX_AGE: i64 = 400 * 24 * 3600;

/// What the cookie's MAC is keyed for, so that no other use of the key makes the same tag.
const MAC_PURPOSE: &[u8] = b"tessera device cookie v1";

/// The public id of a device: 32 lowercase hex characters. Not a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A device id as written in a form or a path: exactly 32 lowercase hex characters, the
    /// only form [`DeviceId::of`] gives. Anything else names no device.
    pub fn parse(value: &str) -> Option<Self> {
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        (value.len() == 32 && value.bytes().all(hex)).then(|| Self(value.to_string()))
    }

    fn of(value: &str) -> Self {
        let hash = Sha256::digest(value.as_bytes());
        Self(hash[..16].iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// A new device cookie's value, to be set once and never logged.
pub struct DeviceCookie(SecretString);

impl DeviceCookie {
    /// The value to put in `Set-Cookie`, exposed at the one place that sends it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for DeviceCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceCookie([REDACTED])")
    }
}

/// A device never seen before: its id and the cookie that will name it from now on.
fn issue(kek: &KeyEncryptionKey) -> (DeviceId, DeviceCookie) {
    let value = RandomSecret::generate();
    let tag = tag(kek, value.expose());
    let cookie = DeviceCookie(SecretString::from(format!("{}.{tag}", value.expose())));
    (DeviceId::of(value.expose()), cookie)
}

/// The device a cookie names, or `None` when the cookie is not one Tessera issued: its MAC,
/// compared in constant time, does not match.
fn verify(kek: &KeyEncryptionKey, cookie: &str) -> Option<DeviceId> {
    let (value, presented) = cookie.split_once('.')?;
    let expected = tag(kek, value);
    if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return None;
    }
    Some(DeviceId::of(value))
}

fn tag(kek: &KeyEncryptionKey, value: &str) -> String {
    URL_SAFE_NO_PAD.encode(kek.mac(MAC_PURPOSE, value.as_bytes()))
}

impl Provider {
    /// A device never seen before: its id and the cookie that will name it from now on.
    pub fn new_device(&self) -> (DeviceId, DeviceCookie) {
        issue(&self.inner.kek)
    }

    /// The device a cookie names, or `None` when Tessera did not issue it.
    pub fn device_of(&self, cookie: &str) -> Option<DeviceId> {
        verify(&self.inner.kek, cookie)
    }

    /// Links a new session to the device it was opened from, within the session's
    /// transaction; nothing when the request came from no device (not through a page).
    pub(crate) async fn note_device(
        &self,
        tx: &mut Tx,
        ctx: &RequestContext,
        session: &Session,
        now: i64,
    ) -> Result<(), ProviderError> {
        let (Some(device_id), Some(sid)) = (ctx.device_id.as_deref(), session.sid.as_deref())
        else {
            return Ok(());
        };
        let visit = DeviceVisit {
            user_id: &session.user_id,
            device_id,
            user_agent: ctx.user_agent.as_deref(),
            ip: ctx.source_ip.as_deref(),
            sid,
        };
        tx.touch_device(&visit, now).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
