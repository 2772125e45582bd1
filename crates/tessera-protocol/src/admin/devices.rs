//! `/admin/v1/users/{id}/devices`: the browsers a person signed in from, as an admin sees them.
//!
//! A device is named by its public id (32 lowercase hex characters, derived from the device
//! cookie and unable to recreate it). Nothing here is secret. Times are seconds since the Unix
//! epoch.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A page of `GET /users/{id}/devices`: the most recently seen first, and among devices last
/// seen in the same second, by `device_id`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceList {
    pub items: Vec<DeviceView>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// A browser the person signed in from.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceView {
    /// Its public id, as `DELETE /users/{id}/devices/{device_id}` takes it.
    pub device_id: String,
    /// The browser and its major version, read from `user_agent` ("Firefox 126"); null when
    /// it names no browser Tessera recognises.
    pub browser: Option<String>,
    /// The operating system, with its version when the user agent gives one ("iOS 17.4");
    /// null when it names none Tessera recognises.
    pub os: Option<String>,
    /// The `User-Agent` header of its latest login, as sent.
    pub user_agent: Option<String>,
    /// Its first login.
    pub first_seen_at: i64,
    /// Its latest login.
    pub last_seen_at: i64,
    /// The source address of its latest login.
    pub last_ip: Option<String>,
    /// Roughly where that address is, from the GeoIP database; null without one.
    pub location: Option<String>,
    /// Its live sessions, oldest first.
    pub sessions: Vec<DeviceSessionView>,
}

/// A live session opened from a device; `sid` is what `DELETE /users/{id}/sessions/{sid}`
/// takes.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceSessionView {
    /// The public session id, as the `sid` claim gives it to clients.
    pub sid: String,
    pub created_at: i64,
    /// When the person last authenticated in it (OIDC Core §2 `auth_time`).
    pub auth_time: i64,
    pub expires_at: i64,
    /// How they authenticated (RFC 8176 method references).
    pub amr: Vec<String>,
}
