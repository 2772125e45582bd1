//! The devices people sign in from, and the sessions opened from each.
//!
//! A device is named by its public id (derived from the device cookie, never the cookie
//! itself). Rows are per person: the same browser is a separate device for each person who
//! signs in on it, so that one person's history never speaks for another's.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::user_access::{session_of, SESSION_COLUMNS};
use crate::{Result, SessionSummary, Store, Tx};

/// A device as recorded at a person's logins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub user_agent: Option<String>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub last_ip: Option<String>,
}

/// Where a page of a person's devices starts, in the order most recently seen first: after
/// the device last seen at `last_seen_at` with `device_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicesAfter {
    pub last_seen_at: i64,
    pub device_id: String,
}

/// What a login tells about the device it came from.
#[derive(Clone, Copy, Debug)]
pub struct DeviceVisit<'a> {
    pub user_id: &'a str,
    pub device_id: &'a str,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    /// The public `sid` of the session the login opened.
    pub sid: &'a str,
}

impl Store {
    /// Whether `user_id` has signed in from `device_id` before.
    pub async fn device_known(&self, user_id: &str, device_id: &str) -> Result<bool> {
        let row =
            sqlx::query("SELECT 1 AS known FROM devices WHERE user_id = $1 AND device_id = $2")
                .bind(user_id)
                .bind(device_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// A person's devices, the most recently seen first.
    pub async fn devices(&self, user_id: &str) -> Result<Vec<Device>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 \
             ORDER BY last_seen_at DESC, device_id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device_of).collect()
    }

    /// Up to `limit` of a person's devices after `after`, the most recently seen first, and
    /// among those seen in the same second by id: the order is total, so a page's last device
    /// names where the next one starts even when devices share their last sighting.
    pub async fn devices_page(
        &self,
        user_id: &str,
        after: Option<&DevicesAfter>,
        limit: i64,
    ) -> Result<Vec<Device>> {
        // Before every row: device ids are never empty, and no sighting is later than i64::MAX.
        let (seen, id) = after.map_or((i64::MAX, ""), |a| (a.last_seen_at, &a.device_id));
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 \
             AND (last_seen_at < $2 OR (last_seen_at = $2 AND device_id > $3)) \
             ORDER BY last_seen_at DESC, device_id LIMIT $4"
        ))
        .bind(user_id)
        .bind(seen)
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device_of).collect()
    }

    /// The `sid`s of the sessions opened from a person's device, live or expired.
    pub async fn device_sids(&self, user_id: &str, device_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT sid FROM device_sessions WHERE user_id = $1 AND device_id = $2 ORDER BY sid",
        )
        .bind(user_id)
        .bind(device_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(row.try_get("sid")?)).collect()
    }

    /// The person's sessions live at `now` that were opened from one of their devices, each
    /// naming its device, oldest first.
    pub async fn live_device_sessions(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<SessionSummary>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s \
             JOIN device_sessions d ON d.sid = s.sid AND d.user_id = s.user_id \
             WHERE s.user_id = $1 AND s.expires_at > $2 ORDER BY s.created_at, s.sid"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(session_of).collect()
    }

    /// The person's sessions live at `now` that were opened from one of `device_ids`, each
    /// naming its device, oldest first. A device of someone else, whatever its id, has none.
    pub async fn live_sessions_from(
        &self,
        user_id: &str,
        device_ids: &[&str],
        now: i64,
    ) -> Result<Vec<SessionSummary>> {
        if device_ids.is_empty() {
            return Ok(Vec::new());
        }
        // One placeholder per device, after the person ($1) and the time ($2).
        let placeholders: Vec<String> =
            (3..device_ids.len() + 3).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s \
             JOIN device_sessions d ON d.sid = s.sid AND d.user_id = s.user_id \
             WHERE s.user_id = $1 AND s.expires_at > $2 AND d.device_id IN ({}) \
             ORDER BY s.created_at, s.sid",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(user_id).bind(now);
        for device_id in device_ids {
            query = query.bind(*device_id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(session_of).collect()
    }
}

const DEVICE_COLUMNS: &str = "device_id, user_agent, first_seen_at, last_seen_at, last_ip";

fn device_of(row: &AnyRow) -> Result<Device> {
    Ok(Device {
        device_id: row.try_get("device_id")?,
        user_agent: row.try_get("user_agent")?,
        first_seen_at: row.try_get("first_seen_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        last_ip: row.try_get("last_ip")?,
    })
}

impl Tx {
    /// Records a login from a device: the device is added or its last sighting updated, and
    /// the session it opened is linked to it. A step-up keeps its session's `sid`, which
    /// stays linked to the device it was first opened from.
    pub async fn touch_device(&mut self, visit: &DeviceVisit<'_>, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO devices (user_id, device_id, user_agent, first_seen_at, last_seen_at, \
             last_ip) VALUES ($1, $2, $3, $4, $4, $5) \
             ON CONFLICT (user_id, device_id) DO UPDATE SET user_agent = excluded.user_agent, \
             last_seen_at = excluded.last_seen_at, last_ip = excluded.last_ip",
        )
        .bind(visit.user_id)
        .bind(visit.device_id)
        .bind(visit.user_agent)
        .bind(now)
        .bind(visit.ip)
        .execute(&mut *self.0)
        .await?;
        sqlx::query(
            "INSERT INTO device_sessions (sid, user_id, device_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (sid) DO NOTHING",
        )
        .bind(visit.sid)
        .bind(visit.user_id)
        .bind(visit.device_id)
        .bind(now)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Forgets a person's device and unlinks every session opened from it; the `sid`s of
    /// those sessions, live or expired, for the caller to end, or `None` when the person has
    /// no such device.
    ///
    /// The device row goes first: a login from the device in a concurrent transaction then
    /// either linked its session before (the link is read and returned here) or waits for
    /// this one and records the device anew, so that no session is left linked to a device
    /// that is gone. Deleting the links is what reads them, so each `sid` returned is one
    /// whose link this transaction removed.
    pub async fn forget_device(
        &mut self,
        user_id: &str,
        device_id: &str,
    ) -> Result<Option<Vec<String>>> {
        let done = sqlx::query("DELETE FROM devices WHERE user_id = $1 AND device_id = $2")
            .bind(user_id)
            .bind(device_id)
            .execute(&mut *self.0)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let rows = sqlx::query(
            "DELETE FROM device_sessions WHERE user_id = $1 AND device_id = $2 RETURNING sid",
        )
        .bind(user_id)
        .bind(device_id)
        .fetch_all(&mut *self.0)
        .await?;
        let sids: std::result::Result<Vec<String>, _> =
            rows.iter().map(|row| row.try_get("sid")).collect();
        Ok(Some(sids?))
    }
}
