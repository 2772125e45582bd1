//! Authorization codes (RFC 6749 §4.1.2), stored as SHA-256 digests.

use sqlx::Row;

use crate::{Result, Tx};

#[derive(Clone, Debug)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    /// The `sid` of the session the code was issued in.
    pub sid: Option<String>,
    pub expires_at: i64,
    /// The risk assessment of the login behind the code (JSON owned by the domain).
    pub risk: Option<String>,
}

/// What happened when a code was claimed for redemption.
#[derive(Debug)]
pub enum Redemption {
    /// The code was live and is now spent; the caller may issue tokens for it.
    Claimed(AuthorizationCode),
    /// The code was redeemed before: a replay (RFC 6749 §4.1.2).
    Replayed { client_id: String, user_id: String },
    /// No such code, or it expired.
    Unknown,
}

impl Tx {
    pub async fn insert_code(
        &mut self,
        code_hash: &[u8],
        code: &AuthorizationCode,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, \
             nonce, code_challenge, auth_time, amr, sid, created_at, expires_at, risk) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(code_hash.to_vec())
        .bind(&code.client_id)
        .bind(&code.user_id)
        .bind(&code.redirect_uri)
        .bind(&code.scope)
        .bind(&code.nonce)
        .bind(&code.code_challenge)
        .bind(code.auth_time)
        .bind(&code.amr)
        .bind(&code.sid)
        .bind(now)
        .bind(code.expires_at)
        .bind(&code.risk)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Marks a code redeemed, atomically: of two concurrent redemptions only one claims it.
    pub async fn claim_code(&mut self, code_hash: &[u8], now: i64) -> Result<Redemption> {
        let claimed = sqlx::query(
            "UPDATE authorization_codes SET redeemed_at = $1 \
             WHERE code_hash = $2 AND redeemed_at IS NULL AND expires_at > $3 \
             RETURNING client_id, user_id, redirect_uri, scope, nonce, code_challenge, \
             auth_time, amr, sid, expires_at, risk",
        )
        .bind(now)
        .bind(code_hash.to_vec())
        .bind(now)
        .fetch_optional(&mut *self.0)
        .await?;

        if let Some(row) = claimed {
            return Ok(Redemption::Claimed(AuthorizationCode {
                client_id: row.try_get("client_id")?,
                user_id: row.try_get("user_id")?,
                redirect_uri: row.try_get("redirect_uri")?,
                scope: row.try_get("scope")?,
                nonce: row.try_get("nonce")?,
                code_challenge: row.try_get("code_challenge")?,
                auth_time: row.try_get("auth_time")?,
                amr: row.try_get("amr")?,
                sid: row.try_get("sid")?,
                expires_at: row.try_get("expires_at")?,
                risk: row.try_get("risk")?,
            }));
        }

        let spent = sqlx::query(
            "SELECT client_id, user_id FROM authorization_codes \
             WHERE code_hash = $1 AND redeemed_at IS NOT NULL",
        )
        .bind(code_hash.to_vec())
        .fetch_optional(&mut *self.0)
        .await?;
        match spent {
            Some(row) => Ok(Redemption::Replayed {
                client_id: row.try_get("client_id")?,
                user_id: row.try_get("user_id")?,
            }),
            None => Ok(Redemption::Unknown),
        }
    }
}
