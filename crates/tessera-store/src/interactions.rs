//! Authorization requests waiting for a person to log in or consent.
//!
//! The validated request is kept on the server, so that a browser can only carry a random
//! handle to it, never the parameters themselves. An interaction may also serve the person's
//! own account page; `purpose` says which, and the domain reads `request` accordingly.

use sqlx::Row;

use crate::{Result, Store, Tx};

#[derive(Clone, Debug)]
pub struct Interaction {
    /// Why the interaction exists, `authorization` or `account`; owned by the domain.
    pub purpose: String,
    /// What the purpose needs, as JSON owned by the domain: for `authorization`, the
    /// validated authorization request.
    pub request: String,
    /// When a login completed within this interaction, if one did.
    pub authenticated_at: Option<i64>,
    pub expires_at: i64,
    /// The person whose password was verified here and who still owes a second factor.
    pub pending_user_id: Option<String>,
    /// When that password was verified (for a step-up: when the session being stepped up
    /// was authenticated).
    pub password_verified_at: Option<i64>,
    /// For a step-up, the SHA-256 of the session whose person owes the second factor: the
    /// step finishes only while that session is live and presented.
    pub step_up_session: Option<Vec<u8>>,
    /// The risk assessment of the login under way (JSON owned by the domain), from its
    /// password step to its second factor.
    pub risk: Option<String>,
}

impl Store {
    pub async fn interaction(&self, id_hash: &[u8], now: i64) -> Result<Option<Interaction>> {
        let row = sqlx::query(
            "SELECT purpose, request, authenticated_at, expires_at, pending_user_id, \
             password_verified_at, step_up_session, risk FROM interactions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash.to_vec())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Interaction {
                purpose: row.try_get("purpose")?,
                request: row.try_get("request")?,
                authenticated_at: row.try_get("authenticated_at")?,
                expires_at: row.try_get("expires_at")?,
                pending_user_id: row.try_get("pending_user_id")?,
                password_verified_at: row.try_get("password_verified_at")?,
                step_up_session: row.try_get("step_up_session")?,
                risk: row.try_get("risk")?,
            })
        })
        .transpose()
    }
}

impl Tx {
    pub async fn insert_interaction(
        &mut self,
        id_hash: &[u8],
        interaction: &Interaction,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO interactions (id_hash, purpose, request, authenticated_at, created_at, \
             expires_at, pending_user_id, password_verified_at, step_up_session, risk) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id_hash.to_vec())
        .bind(&interaction.purpose)
        .bind(&interaction.request)
        .bind(interaction.authenticated_at)
        .bind(now)
        .bind(interaction.expires_at)
        .bind(&interaction.pending_user_id)
        .bind(interaction.password_verified_at)
        .bind(&interaction.step_up_session)
        .bind(&interaction.risk)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    pub async fn mark_interaction_authenticated(&mut self, id_hash: &[u8], now: i64) -> Result<()> {
        sqlx::query("UPDATE interactions SET authenticated_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash.to_vec())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Records that `user_id` gave the right password and owes a second factor. No session
    /// exists for them until [`Tx::finish_second_factor`]. A step-up begun earlier in the
    /// interaction is over: this login stands on its own password.
    pub async fn set_interaction_pending(
        &mut self,
        id_hash: &[u8],
        user_id: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE interactions SET pending_user_id = $1, password_verified_at = $2, \
             authenticated_at = NULL, step_up_session = NULL WHERE id_hash = $3",
        )
        .bind(user_id)
        .bind(now)
        .bind(id_hash.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Keeps the risk assessment of the login under way, for its later steps.
    pub async fn set_interaction_risk(&mut self, id_hash: &[u8], risk: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE interactions SET risk = $1 WHERE id_hash = $2")
            .bind(risk)
            .bind(id_hash.to_vec())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Records that the person of the session `session_hash`, authenticated at
    /// `authenticated_at`, owes a second factor here without giving the password again
    /// (a step-up). The interaction is no longer a fresh login until the factor is given.
    pub async fn set_interaction_step_up(
        &mut self,
        id_hash: &[u8],
        user_id: &str,
        session_hash: &[u8],
        authenticated_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE interactions SET pending_user_id = $1, password_verified_at = $2, \
             step_up_session = $3, authenticated_at = NULL, risk = NULL WHERE id_hash = $4",
        )
        .bind(user_id)
        .bind(authenticated_at)
        .bind(session_hash.to_vec())
        .bind(id_hash.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// The second factor was verified: the login within this interaction is complete, and
    /// nothing is pending any more. False when the interaction or its pending person is
    /// gone (a second submission of the same form), so only one can finish it.
    pub async fn finish_second_factor(
        &mut self,
        id_hash: &[u8],
        user_id: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE interactions SET authenticated_at = $1, pending_user_id = NULL, \
             step_up_session = NULL WHERE id_hash = $2 AND pending_user_id = $3",
        )
        .bind(now)
        .bind(id_hash.to_vec())
        .bind(user_id)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes one of the interaction's `max` second-factor attempts before its code is
    /// checked; returns how many are now taken, or `None` when none is left (or the
    /// interaction is gone). Taken in a statement of its own, so that parallel submissions
    /// queue on the row and never more than `max` codes are checked.
    pub async fn claim_factor_attempt(&mut self, id_hash: &[u8], max: i64) -> Result<Option<i64>> {
        let row = sqlx::query(
            "UPDATE interactions SET factor_failures = factor_failures + 1 \
             WHERE id_hash = $1 AND factor_failures < $2 RETURNING factor_failures",
        )
        .bind(id_hash.to_vec())
        .bind(max)
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(|row| row.try_get("factor_failures"))
            .transpose()
            .map_err(Into::into)
    }

    /// Ends every login in which `user_id`'s password was verified and a second factor (or a
    /// required password change) is still owed: after a password change or an administrator's action, a login begun with
    /// the old password, or before the action, must not finish. Returns how many ended.
    pub async fn delete_pending_logins(&mut self, user_id: &str) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM interactions WHERE pending_user_id = $1 OR password_change_user_id = $1",
        )
        .bind(user_id)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected())
    }

    /// Removes a finished interaction; false when it was already gone, so that of two
    /// transactions finishing the same interaction only one can go on.
    pub async fn delete_interaction(&mut self, id_hash: &[u8]) -> Result<bool> {
        let done = sqlx::query("DELETE FROM interactions WHERE id_hash = $1")
            .bind(id_hash.to_vec())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that `user_id` gave the right password here but must choose a new one before
    /// the login goes on. Nothing else is pending: no session, no second-factor step.
    pub async fn set_interaction_password_change(
        &mut self,
        id_hash: &[u8],
        user_id: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE interactions SET password_change_user_id = $1, password_verified_at = $2, \
             pending_user_id = NULL, authenticated_at = NULL, step_up_session = NULL \
             WHERE id_hash = $3",
        )
        .bind(user_id)
        .bind(now)
        .bind(id_hash.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// The new password was chosen: the change owed by `user_id` here is over. False when it
    /// already was (a second submission of the form), so only one can go on.
    pub async fn take_interaction_password_change(
        &mut self,
        id_hash: &[u8],
        user_id: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE interactions SET password_change_user_id = NULL \
             WHERE id_hash = $1 AND password_change_user_id = $2",
        )
        .bind(id_hash.to_vec())
        .bind(user_id)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// Whose new password the live interaction waits for, if anyone's.
    pub async fn interaction_password_change(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT password_change_user_id FROM interactions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash.to_vec())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|row| row.try_get::<Option<String>, _>("password_change_user_id"))
            .transpose()?
            .flatten())
    }
}
