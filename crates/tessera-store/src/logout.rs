//! What logout needs to remember: which clients a session served, and the outbox of
//! back-channel logout notifications (OIDC Back-Channel Logout 1.0 §2.5, §2.7).
//!
//! Several instances may work the outbox at once: a delivery is claimed by moving its
//! `next_attempt_at` forward, conditionally on the value read, so only one instance wins.

use sqlx::Row;

use crate::{Result, Store, Tx};

/// How long a delivered notification is kept, seconds, before the delivery loop purges it.
pub const LOGOUT_DELIVERY_RETENTION: i64 = 24 * 3600;

/// A back-channel logout notification waiting for delivery.
#[derive(Clone, Debug)]
pub struct LogoutDelivery {
    pub id: i64,
    pub client_id: String,
    /// The signed logout token as first issued.
    pub logout_token: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The client's current back-channel logout URI; `None` if it no longer has one.
    pub uri: Option<String>,
}

impl Tx {
    /// Remembers that `client_id` was given a code in the session `sid`.
    pub async fn remember_session_client(
        &mut self,
        sid: &str,
        client_id: &str,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO session_clients (sid, client_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sid, client_id) DO NOTHING",
        )
        .bind(sid)
        .bind(client_id)
        .bind(expires_at)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    pub async fn forget_session_clients(&mut self, sid: &str) -> Result<()> {
        sqlx::query("DELETE FROM session_clients WHERE sid = $1")
            .bind(sid)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    pub async fn enqueue_logout_delivery(
        &mut self,
        client_id: &str,
        logout_token: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO logout_deliveries (client_id, logout_token, attempts, next_attempt_at, \
             created_at) VALUES ($1, $2, 0, $3, $4)",
        )
        .bind(client_id)
        .bind(logout_token)
        .bind(now)
        .bind(now)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Drops a delivery that will never succeed; the caller records why in the same
    /// transaction.
    pub async fn abandon_logout_delivery(&mut self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM logout_deliveries WHERE id = $1")
            .bind(id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Ids of the clients given codes in the session `sid`.
    pub async fn session_clients(&self, sid: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT client_id FROM session_clients WHERE sid = $1")
            .bind(sid)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("client_id")?))
            .collect()
    }

    /// How many notifications wait for delivery, due or not: the outbox's backlog.
    pub async fn logout_backlog(&self) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS backlog FROM logout_deliveries WHERE delivered_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("backlog")?)
    }

    /// Undelivered notifications due at `now`, oldest first.
    pub async fn due_logout_deliveries(&self, now: i64, limit: i64) -> Result<Vec<LogoutDelivery>> {
        let rows = sqlx::query(
            "SELECT d.id, d.client_id, d.logout_token, d.attempts, d.next_attempt_at, \
             c.backchannel_logout_uri FROM logout_deliveries d \
             LEFT JOIN clients c ON c.id = d.client_id \
             WHERE d.delivered_at IS NULL AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LogoutDelivery {
                    id: row.try_get("id")?,
                    client_id: row.try_get("client_id")?,
                    logout_token: row.try_get("logout_token")?,
                    attempts: row.try_get("attempts")?,
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    uri: row.try_get("backchannel_logout_uri")?,
                })
            })
            .collect()
    }

    /// Takes a delivery for one attempt, leasing it until `lease_until`. Returns `false`
    /// when another instance took it first (its `next_attempt_at` moved).
    pub async fn claim_logout_delivery(
        &self,
        delivery: &LogoutDelivery,
        lease_until: i64,
    ) -> Result<bool> {
        let claimed = sqlx::query(
            "UPDATE logout_deliveries SET next_attempt_at = $1 \
             WHERE id = $2 AND next_attempt_at = $3 AND delivered_at IS NULL",
        )
        .bind(lease_until)
        .bind(delivery.id)
        .bind(delivery.next_attempt_at)
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    pub async fn mark_logout_delivered(&self, id: i64, attempts: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE logout_deliveries SET delivered_at = $1, attempts = $2 WHERE id = $3")
            .bind(now)
            .bind(attempts)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn reschedule_logout_delivery(
        &self,
        id: i64,
        attempts: i64,
        next_attempt_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE logout_deliveries SET attempts = $1, next_attempt_at = $2 WHERE id = $3",
        )
        .bind(attempts)
        .bind(next_attempt_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes delivered notifications, expired session-client links and expired assertion
    /// ids; returns how many rows went. Safe to run from several instances at once.
    pub async fn purge_logout_records(&self, now: i64) -> Result<u64> {
        let statements: [(&str, i64); 3] = [
            (
                "DELETE FROM logout_deliveries WHERE delivered_at IS NOT NULL \
                 AND delivered_at <= $1",
                now - LOGOUT_DELIVERY_RETENTION,
            ),
            ("DELETE FROM session_clients WHERE expires_at <= $1", now),
            (
                "DELETE FROM client_assertion_jtis WHERE expires_at <= $1",
                now,
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
        Ok(removed)
    }
}
