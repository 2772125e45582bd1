//! What an admin sees of a person's access and ends on their behalf: their factors, browser
//! sessions by public `sid`, refresh-token families, and the version that guards their roles.
//!
//! Every lookup is scoped by the person's id, so that a session, family or key of someone
//! else, addressed through this person, is simply not found.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Result, Revoked, Store, Tx};

/// A live browser session, by its public id; nothing in it is secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSummary {
    pub sid: String,
    pub auth_time: i64,
    /// Space-separated RFC 8176 method references.
    pub amr: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// The public id of the device the session was opened from, when it came through a page
    /// that named one.
    pub device_id: Option<String>,
}

/// A refresh-token family that can still be redeemed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshFamily {
    pub family_id: String,
    pub client_id: String,
    pub scope: String,
    /// When the grant's first token was issued.
    pub created_at: i64,
    /// The latest rotation; `None` if the first token was never redeemed.
    pub last_used_at: Option<i64>,
    /// The absolute end of the family.
    pub expires_at: i64,
    /// The end of the live token if it goes unused.
    pub idle_expires_at: i64,
}

/// Where a page of a person's sessions or families starts: after this creation time and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageAfter {
    pub created_at: i64,
    pub id: String,
}

/// The TOTP authenticator's dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TotpDates {
    pub created_at: i64,
    /// `None` while the enrolment is unconfirmed.
    pub confirmed_at: Option<i64>,
}

/// A person's set of recovery codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoveryCodeSet {
    pub created_at: i64,
    pub unused: i64,
}

pub(crate) fn session_of(row: &AnyRow) -> Result<SessionSummary> {
    Ok(SessionSummary {
        sid: row.try_get("sid")?,
        auth_time: row.try_get("auth_time")?,
        amr: row.try_get("amr")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        device_id: row.try_get("device_id")?,
    })
}

/// The columns of [`SessionSummary`], from `sessions s` and the device link `d` joined to it.
pub(crate) const SESSION_COLUMNS: &str = "s.sid AS sid, s.auth_time AS auth_time, s.amr AS amr, \
     s.created_at AS created_at, s.expires_at AS expires_at, d.device_id AS device_id";

fn family_of(row: &AnyRow) -> Result<RefreshFamily> {
    Ok(RefreshFamily {
        family_id: row.try_get("family_id")?,
        client_id: row.try_get("client_id")?,
        scope: row.try_get("scope")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
        idle_expires_at: row.try_get("idle_expires_at")?,
    })
}

/// The first cursor position: before every row.
fn start_of(after: Option<&PageAfter>) -> (i64, &str) {
    after.map_or((i64::MIN, ""), |a| (a.created_at, a.id.as_str()))
}

/// A family's live token: unspent, unrevoked, and before both of its ends.
const LIVE_TOKEN: &str = "used_at IS NULL AND revoked_at IS NULL \
                          AND expires_at > $2 AND idle_expires_at > $2";

impl Store {
    /// The person's TOTP authenticator, confirmed or still enrolling.
    pub async fn totp_dates(&self, user_id: &str) -> Result<Option<TotpDates>> {
        let row =
            sqlx::query("SELECT created_at, confirmed_at FROM totp_factors WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            Ok(TotpDates {
                created_at: row.try_get("created_at")?,
                confirmed_at: row.try_get("confirmed_at")?,
            })
        })
        .transpose()
    }

    /// The person's recovery codes, if they have a set (even one fully used).
    pub async fn recovery_code_set(&self, user_id: &str) -> Result<Option<RecoveryCodeSet>> {
        let row = sqlx::query(
            "SELECT MIN(created_at) AS created_at, \
             SUM(CASE WHEN used_at IS NULL THEN 1 ELSE 0 END) AS unused \
             FROM recovery_codes WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        let created_at: Option<i64> = row.try_get("created_at")?;
        let Some(created_at) = created_at else {
            return Ok(None);
        };
        let unused: Option<i64> = row.try_get("unused")?;
        Ok(Some(RecoveryCodeSet {
            created_at,
            unused: unused.unwrap_or(0),
        }))
    }

    /// Up to `limit` of the person's sessions live at `now`, oldest first, after `after`.
    pub async fn live_sessions(
        &self,
        user_id: &str,
        now: i64,
        after: Option<&PageAfter>,
        limit: i64,
    ) -> Result<Vec<SessionSummary>> {
        let (created, id) = start_of(after);
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s \
             LEFT JOIN device_sessions d ON d.sid = s.sid AND d.user_id = s.user_id \
             WHERE s.user_id = $1 AND s.expires_at > $2 AND s.sid IS NOT NULL \
             AND (s.created_at > $3 OR (s.created_at = $3 AND s.sid > $4)) \
             ORDER BY s.created_at, s.sid LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .bind(now)
            .bind(created)
            .bind(id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(session_of).collect()
    }

    /// The person's session `sid`, if it is live at `now`.
    pub async fn live_session_by_sid(
        &self,
        user_id: &str,
        sid: &str,
        now: i64,
    ) -> Result<Option<SessionSummary>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s \
             LEFT JOIN device_sessions d ON d.sid = s.sid AND d.user_id = s.user_id \
             WHERE s.user_id = $1 AND s.sid = $2 AND s.expires_at > $3"
        );
        let row = sqlx::query(&sql)
            .bind(user_id)
            .bind(sid)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_of).transpose()
    }

    /// Up to `limit` of the person's refresh-token families that can still be redeemed at
    /// `now`, oldest first, after `after`.
    pub async fn live_refresh_families(
        &self,
        user_id: &str,
        now: i64,
        after: Option<&PageAfter>,
        limit: i64,
    ) -> Result<Vec<RefreshFamily>> {
        let (created, id) = start_of(after);
        // The live token carries the family's current state; its siblings are the tokens it
        // replaced, which date the grant and its last use.
        let rows = sqlx::query(
            "SELECT t.family_id AS family_id, t.client_id AS client_id, t.scope AS scope, \
             t.expires_at AS expires_at, t.idle_expires_at AS idle_expires_at, \
             f.created_at AS created_at, f.last_used_at AS last_used_at \
             FROM refresh_tokens t JOIN \
             (SELECT family_id, MIN(issued_at) AS created_at, MAX(used_at) AS last_used_at \
              FROM refresh_tokens WHERE user_id = $1 GROUP BY family_id) f \
             ON f.family_id = t.family_id \
             WHERE t.user_id = $1 AND t.used_at IS NULL AND t.revoked_at IS NULL \
             AND t.expires_at > $2 AND t.idle_expires_at > $2 \
             AND (f.created_at > $3 OR (f.created_at = $3 AND t.family_id > $4)) \
             ORDER BY f.created_at, t.family_id LIMIT $5",
        )
        .bind(user_id)
        .bind(now)
        .bind(created)
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(family_of).collect()
    }
}

impl Tx {
    /// Bumps the person's version if it is still `expected` (and they are not deleted), and
    /// returns the new one: `None` when another change came first, or there is no such
    /// person. The row stays locked until the transaction ends, so changes guarded by the
    /// version cannot interleave.
    pub async fn bump_user_version(
        &mut self,
        user_id: &str,
        expected: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "UPDATE users SET version = version + 1, updated_at = $1 \
             WHERE id = $2 AND version = $3 AND deleted_at IS NULL RETURNING version",
        )
        .bind(now)
        .bind(user_id)
        .bind(expected)
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(|row| Ok(row.try_get("version")?)).transpose()
    }

    /// Removes every recovery code of the person, used or not; returns how many there were.
    pub async fn delete_recovery_codes(&mut self, user_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected())
    }

    /// Ends the person's session `sid` if it is live at `now`; false when there is none.
    pub async fn end_session_by_sid(&mut self, user_id: &str, sid: &str, now: i64) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND sid = $2 AND expires_at > $3")
                .bind(user_id)
                .bind(sid)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes what the person's session `sid` issued: the refresh-token families started
    /// in it, the access tokens of those families and of its codes, and deletes its codes
    /// not yet redeemed, which would otherwise mint tokens after the session ended.
    pub async fn revoke_session_tokens(
        &mut self,
        user_id: &str,
        sid: &str,
        now: i64,
    ) -> Result<Revoked> {
        // The refresh tokens first, swept until none is left (see `Tx::sweep`), so that the
        // access tokens' statement sees every family member a racing rotation committed.
        let refresh = self
            .sweep(
                "UPDATE refresh_tokens SET revoked_at = $1 \
                 WHERE revoked_at IS NULL AND user_id = $2 AND sid = $3",
                now,
                &[user_id, sid],
            )
            .await?;
        let access = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND user_id = $2 \
             AND (refresh_family IN \
                  (SELECT family_id FROM refresh_tokens WHERE user_id = $2 AND sid = $3) \
              OR code_hash IN \
                  (SELECT code_hash FROM authorization_codes WHERE user_id = $2 AND sid = $3))",
        )
        .bind(now)
        .bind(user_id)
        .bind(sid)
        .execute(&mut *self.0)
        .await?;
        sqlx::query(
            "DELETE FROM authorization_codes \
             WHERE user_id = $1 AND sid = $2 AND redeemed_at IS NULL",
        )
        .bind(user_id)
        .bind(sid)
        .execute(&mut *self.0)
        .await?;
        Ok(Revoked {
            refresh_tokens: refresh,
            access_tokens: access.rows_affected(),
        })
    }

    /// Whether the person's family `family_id` can still be redeemed at `now`.
    pub async fn holds_live_refresh_family(
        &mut self,
        user_id: &str,
        family_id: &str,
        now: i64,
    ) -> Result<bool> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM refresh_tokens \
             WHERE user_id = $1 AND {LIVE_TOKEN} AND family_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(user_id)
            .bind(now)
            .bind(family_id)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}
