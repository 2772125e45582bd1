//! Refresh tokens (RFC 6749 §6), stored as SHA-256 digests, and their families.
//!
//! Every rotation of one grant shares a `family_id`. A token is spent by setting `used_at`
//! in the transaction that inserts its successor; presenting a spent token again is a sign
//! of theft (RFC 9700 §4.14.2), and the caller revokes the whole family, access tokens
//! included. Revocation of everything a person holds lives here too, for the code that
//! disables accounts, changes passwords or removes factors.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Result, Store, Tx};

/// A refresh token as issued; the token itself is never stored, only its digest.
#[derive(Clone, Debug)]
pub struct RefreshTokenRecord {
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    /// The scope of the grant; RFC 6749 §6 keeps it identical across rotations.
    pub scope: String,
    pub auth_time: i64,
    pub amr: String,
    pub sid: Option<String>,
    pub issued_at: i64,
    /// The absolute end of the family, fixed when the first token was issued.
    pub expires_at: i64,
    /// The end of this token if it goes unused.
    pub idle_expires_at: i64,
    /// The risk assessment of the login that started the family (JSON owned by the domain),
    /// kept across rotations.
    pub risk: Option<String>,
}

/// A stored refresh token with its state, for revocation and introspection.
#[derive(Clone, Debug)]
pub struct StoredRefreshToken {
    pub record: RefreshTokenRecord,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl StoredRefreshToken {
    /// Whether the token could still be redeemed at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.used_at.is_none()
            && self.revoked_at.is_none()
            && self.record.expires_at > now
            && self.record.idle_expires_at > now
    }
}

/// What happened when a refresh token was claimed for rotation.
#[derive(Debug)]
pub enum RefreshClaim {
    /// The token was live and belonged to the client; it is now spent.
    Claimed(RefreshTokenRecord),
    /// The token was spent before: a replay. The caller revokes the family.
    Replayed { family_id: String, user_id: String },
    /// The token exists but was issued to another client; nothing was changed.
    Foreign,
    /// No such token, or it expired or was revoked.
    Unknown,
}

/// Rows revoked by one operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revoked {
    pub refresh_tokens: u64,
    pub access_tokens: u64,
}

const COLUMNS: &str = "family_id, client_id, user_id, scope, auth_time, amr, sid, issued_at, \
                       expires_at, idle_expires_at, risk";

fn record_from_row(row: &AnyRow) -> Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        family_id: row.try_get("family_id")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        scope: row.try_get("scope")?,
        auth_time: row.try_get("auth_time")?,
        amr: row.try_get("amr")?,
        sid: row.try_get("sid")?,
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        idle_expires_at: row.try_get("idle_expires_at")?,
        risk: row.try_get("risk")?,
    })
}

impl Tx {
    pub async fn insert_refresh_token(
        &mut self,
        token_hash: &[u8],
        token: &RefreshTokenRecord,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, \
             auth_time, amr, sid, issued_at, expires_at, idle_expires_at, risk) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(token_hash.to_vec())
        .bind(&token.family_id)
        .bind(&token.client_id)
        .bind(&token.user_id)
        .bind(&token.scope)
        .bind(token.auth_time)
        .bind(&token.amr)
        .bind(&token.sid)
        .bind(token.issued_at)
        .bind(token.expires_at)
        .bind(token.idle_expires_at)
        .bind(&token.risk)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Spends a refresh token for `client_id`, atomically: the update matches only a live,
    /// unspent token of that client, so of two concurrent uses exactly one claims it. A token
    /// whose family has any revoked member is dead too: a rotation that committed while the
    /// family was being revoked may have left its new token unrevoked (see [`Tx::sweep`]).
    pub async fn claim_refresh_token(
        &mut self,
        token_hash: &[u8],
        client_id: &str,
        now: i64,
    ) -> Result<RefreshClaim> {
        let sql = format!(
            "UPDATE refresh_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND client_id = $3 AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $4 AND idle_expires_at > $5 \
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens f \
                 WHERE f.family_id = refresh_tokens.family_id AND f.revoked_at IS NOT NULL) \
             RETURNING {COLUMNS}"
        );
        let claimed = sqlx::query(&sql)
            .bind(now)
            .bind(token_hash.to_vec())
            .bind(client_id)
            .bind(now)
            .bind(now)
            .fetch_optional(&mut *self.0)
            .await?;
        if let Some(row) = claimed {
            return Ok(RefreshClaim::Claimed(record_from_row(&row)?));
        }

        let found = sqlx::query(
            "SELECT family_id, client_id, user_id, used_at FROM refresh_tokens \
             WHERE token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(&mut *self.0)
        .await?;
        let Some(row) = found else {
            return Ok(RefreshClaim::Unknown);
        };

        // The client binding comes first: another client's token changes nothing.
        let owner: String = row.try_get("client_id")?;
        if owner != client_id {
            return Ok(RefreshClaim::Foreign);
        }

        let used_at: Option<i64> = row.try_get("used_at")?;
        if used_at.is_some() {
            return Ok(RefreshClaim::Replayed {
                family_id: row.try_get("family_id")?,
                user_id: row.try_get("user_id")?,
            });
        }
        Ok(RefreshClaim::Unknown)
    }

    /// Revokes every refresh token of a family and every access token issued from it.
    pub async fn revoke_refresh_family(&mut self, family_id: &str, now: i64) -> Result<Revoked> {
        let refresh = self
            .sweep(
                "UPDATE refresh_tokens SET revoked_at = $1 \
                 WHERE family_id = $2 AND revoked_at IS NULL",
                now,
                &[family_id],
            )
            .await?;
        let access = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 \
             WHERE refresh_family = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(family_id)
        .execute(&mut *self.0)
        .await?;
        Ok(Revoked {
            refresh_tokens: refresh,
            access_tokens: access.rows_affected(),
        })
    }

    /// Runs a revoking `UPDATE` (binds: `now`, then `keys`) until it finds nothing left to
    /// revoke. At READ COMMITTED (PostgreSQL) each statement sees only what was committed when
    /// it began: a rotation that held the token being revoked commits its successor unseen,
    /// and the next pass catches it. Each further pass needs another rotation that won the
    /// same race, so the loop ends; the bound is a backstop, and whatever a last rotation
    /// left is dead anyway, as [`Tx::claim_refresh_token`] refuses a family with a revoked
    /// member.
    pub(crate) async fn sweep(&mut self, sql: &str, now: i64, keys: &[&str]) -> Result<u64> {
        const MAX_PASSES: usize = 16;
        let mut revoked = 0;
        for _ in 0..MAX_PASSES {
            let mut query = sqlx::query(sql).bind(now);
            for key in keys {
                query = query.bind(*key);
            }
            let done = query.execute(&mut *self.0).await?.rows_affected();
            revoked += done;
            if done == 0 {
                break;
            }
        }
        Ok(revoked)
    }

    /// Revokes one access token by `jti`; returns whether it was live.
    pub async fn revoke_access_token(&mut self, jti: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(jti)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets a client's refresh-token lifetimes (absolute, idle), in seconds. Families already
    /// issued keep the lifetimes they were issued with.
    pub async fn set_client_refresh_token_ttls(
        &mut self,
        client_id: &str,
        ttl: i64,
        idle_ttl: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE clients SET refresh_token_ttl = $1, refresh_token_idle_ttl = $2 WHERE id = $3",
        )
        .bind(ttl)
        .bind(idle_ttl)
        .bind(client_id)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Revokes every refresh and access token a person holds, for every client, and deletes
    /// their codes not yet redeemed: called when an account is disabled, and by password
    /// changes and factor removal.
    pub async fn revoke_user_tokens(&mut self, user_id: &str, now: i64) -> Result<Revoked> {
        let refresh = self
            .sweep(
                "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
                now,
                &[user_id],
            )
            .await?;
        let access = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *self.0)
        .await?;
        // A code issued before and not yet redeemed would mint new tokens afterwards.
        sqlx::query("DELETE FROM authorization_codes WHERE user_id = $1 AND redeemed_at IS NULL")
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        Ok(Revoked {
            refresh_tokens: refresh,
            access_tokens: access.rows_affected(),
        })
    }
}

impl Store {
    /// A refresh token by digest, whatever its state.
    /// A refresh token as stored; revoked when any member of its family is (see
    /// [`Tx::claim_refresh_token`]).
    pub async fn refresh_token(&self, token_hash: &[u8]) -> Result<Option<StoredRefreshToken>> {
        let sql = format!(
            "SELECT {COLUMNS}, used_at, COALESCE(revoked_at, (SELECT MIN(f.revoked_at) \
             FROM refresh_tokens f WHERE f.family_id = refresh_tokens.family_id)) AS revoked_at \
             FROM refresh_tokens WHERE token_hash = $1"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash.to_vec())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(StoredRefreshToken {
                record: record_from_row(&row)?,
                used_at: row.try_get("used_at")?,
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .transpose()
    }
}
