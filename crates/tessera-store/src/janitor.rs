//! Removal of records that can no longer be used.

use crate::{Result, Store};

/// How long a redeemed or expired code is kept, seconds: long enough that a replay within
/// the lifetime of the tokens it produced is still recognised and revokes them.
pub const SPENT_CODE_RETENTION: i64 = 24 * 3600;

impl Store {
    /// Deletes expired interactions, WebAuthn ceremonies, sessions, access- and refresh-token
    /// records, idempotency records, old codes, and devices no browser can name any more;
    /// returns how many rows went. Safe to run from several instances at once.
    pub async fn purge_expired(&self, now: i64) -> Result<u64> {
        let statements: [(&str, i64); 7] = [
            ("DELETE FROM interactions WHERE expires_at <= $1", now),
            (
                "DELETE FROM webauthn_ceremonies WHERE expires_at <= $1",
                now,
            ),
            ("DELETE FROM sessions WHERE expires_at <= $1", now),
            ("DELETE FROM idempotency_keys WHERE expires_at <= $1", now),
            ("DELETE FROM access_tokens WHERE expires_at <= $1", now),
            // A family's absolute end is shared by all its tokens: until then a spent token
            // is kept, so that its reuse is still recognised as theft (RFC 9700 §4.14.2).
            ("DELETE FROM refresh_tokens WHERE expires_at <= $1", now),
            (
                "DELETE FROM authorization_codes WHERE expires_at <= $1",
                now - SPENT_CODE_RETENTION,
            ),
        ];
        let mut removed = 0;
        for (sql, cutoff) in statements {
            removed += sqlx::query(sql)
                .bind(cutoff)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        removed += self.purge_devices(now).await?;
        Ok(removed)
    }

    /// A device unseen for longer than its cookie lives (400 days) can never be seen again,
    /// and a session link whose session and refresh tokens are all gone finds nothing to end.
    async fn purge_devices(&self, now: i64) -> Result<u64> {
        const DEVICE_COOKIE_LIFETIME: i64 = 400 * 24 * 3600;
        let cutoff = now - DEVICE_COOKIE_LIFETIME;
        let links = sqlx::query(
            "DELETE FROM device_sessions WHERE created_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.sid = device_sessions.sid) \
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.sid = device_sessions.sid)",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        let stale = sqlx::query(
            "DELETE FROM device_sessions WHERE EXISTS (SELECT 1 FROM devices d \
             WHERE d.user_id = device_sessions.user_id AND d.device_id = device_sessions.device_id \
             AND d.last_seen_at <= $1)",
        )
        .bind(cutoff)
        .execute(&self.pool)
        .await?;
        let devices = sqlx::query("DELETE FROM devices WHERE last_seen_at <= $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(links.rows_affected() + stale.rows_affected() + devices.rows_affected())
    }
}

impl Store {
    /// Deletes signing keys retired at or before `cutoff`: the caller passes "now" less the
    /// longest lifetime of anything they signed, so no unexpired token loses its key.
    /// Returns how many went.
    pub async fn purge_retired_signing_keys(&self, cutoff: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM signing_keys WHERE retired_at <= $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
