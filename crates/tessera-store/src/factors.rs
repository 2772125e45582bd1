//! Second factors: TOTP authenticators and recovery codes.
//!
//! The single-use rules live in the SQL: accepting a TOTP step and spending a recovery code
//! are each one conditional UPDATE, so of two requests presenting the same code at once
//! exactly one changes a row.

use sqlx::Row;

use crate::{Result, Store, Tx};

/// A person's TOTP authenticator, its secret still sealed.
#[derive(Clone)]
pub struct TotpFactor {
    pub secret_sealed: Vec<u8>,
    /// The last time step a code was accepted for; -1 before the first.
    pub last_step: i64,
    /// When a valid code confirmed the enrolment; `None` while enrolling.
    pub confirmed_at: Option<i64>,
    /// While enrolling: the hash of the interaction that drew the secret.
    pub enrolling_interaction: Option<Vec<u8>>,
}

impl std::fmt::Debug for TotpFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactor")
            .field("last_step", &self.last_step)
            .field("confirmed_at", &self.confirmed_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub async fn totp_factor(&self, user_id: &str) -> Result<Option<TotpFactor>> {
        let row = sqlx::query(
            "SELECT secret_sealed, last_step, confirmed_at, enrolling_interaction \
             FROM totp_factors WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(TotpFactor {
                secret_sealed: row.try_get("secret_sealed")?,
                last_step: row.try_get("last_step")?,
                confirmed_at: row.try_get("confirmed_at")?,
                enrolling_interaction: row.try_get("enrolling_interaction")?,
            })
        })
        .transpose()
    }

    /// Recovery codes not used yet.
    pub async fn unused_recovery_codes(&self, user_id: &str) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }
}

impl Tx {
    /// Starts an enrolment: a new, unconfirmed secret replaces any unconfirmed one. A
    /// confirmed authenticator is left alone (false): replacing it is a reset.
    pub async fn begin_totp_enrolment(
        &mut self,
        user_id: &str,
        secret_sealed: &[u8],
        interaction_hash: &[u8],
        now: i64,
    ) -> Result<bool> {
        sqlx::query("DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NULL")
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        let done = sqlx::query(
            "INSERT INTO totp_factors (user_id, secret_sealed, last_step, confirmed_at, \
             created_at, enrolling_interaction) VALUES ($1, $2, -1, NULL, $3, $4) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(secret_sealed.to_vec())
        .bind(now)
        .bind(interaction_hash.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Accepts a confirmed authenticator's code by its time step, if it is later than the
    /// last accepted one. False when the step is not later: a replayed or older code (RFC
    /// 6238 §5.2). Enrolments are confirmed by [`Tx::confirm_totp_enrolment`] instead.
    pub async fn accept_totp_step(&mut self, user_id: &str, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE totp_factors SET last_step = $1 \
             WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Confirms an enrolment with a code's time step, only for the interaction that drew the
    /// secret: another interaction may have replaced it since this one read it.
    pub async fn confirm_totp_enrolment(
        &mut self,
        user_id: &str,
        interaction_hash: &[u8],
        step: i64,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE totp_factors SET last_step = $1, confirmed_at = $2, \
             enrolling_interaction = NULL \
             WHERE user_id = $3 AND confirmed_at IS NULL AND enrolling_interaction = $4 \
             AND last_step < $1",
        )
        .bind(step)
        .bind(now)
        .bind(user_id)
        .bind(interaction_hash.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces every recovery code of a person with `digests`.
    pub async fn replace_recovery_codes(
        &mut self,
        user_id: &str,
        digests: &[[u8; 32]],
        now: i64,
    ) -> Result<()> {
        // Two replacements at once must not both insert: the person's row is locked first
        // (PostgreSQL, read committed), so the second waits and then deletes the first's set.
        // SQLite serialises writers already.
        sqlx::query("UPDATE users SET factor_failures = factor_failures WHERE id = $1")
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        for digest in digests {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at, used_at) \
                 VALUES ($1, $2, $3, NULL)",
            )
            .bind(user_id)
            .bind(digest.to_vec())
            .bind(now)
            .execute(&mut *self.0)
            .await?;
        }
        Ok(())
    }

    /// Spends an unused recovery code; false when there is none with this digest.
    pub async fn use_recovery_code(
        &mut self,
        user_id: &str,
        digest: &[u8],
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(digest.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a person's TOTP authenticator, confirmed or still enrolling; false when they
    /// had none. Recovery codes are the caller's to keep or replace.
    pub async fn delete_totp_factor(&mut self, user_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM totp_factors WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether the person still holds a second factor, read within this transaction: a
    /// confirmed TOTP authenticator or a WebAuthn credential. Recovery codes do not count:
    /// they stand in for one of these.
    pub async fn holds_second_factor(&mut self, user_id: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM totp_factors \
                     WHERE user_id = $1 AND confirmed_at IS NOT NULL) \
                  + (SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = $1) AS n",
        )
        .bind(user_id)
        .fetch_one(&mut *self.0)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Removes every second factor of a person (TOTP, recovery codes, WebAuthn credentials),
    /// as an administrator's reset does.
    pub async fn delete_factors(&mut self, user_id: &str) -> Result<()> {
        for sql in [
            "DELETE FROM totp_factors WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM webauthn_credentials WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *self.0).await?;
        }
        Ok(())
    }
}
