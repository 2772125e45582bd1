//! Taking access away from a person, or resetting it: disable and enable, delete (a
//! tombstone), and a password set by an administrator.
//!
//! Each of them that ends access does so as the command line's disable does
//! ([`crate::accounts::end_access`]): in the transaction of the change, every refresh and
//! access token of the person is revoked, their browser sessions and half-finished logins
//! end, and the apps those sessions served are sent back-channel logout tokens
//! (Back-Channel Logout 1.0 §2.7).

use secrecy::SecretString;
use serde_json::json;
use tessera_protocol::admin::users::{PasswordSet, PasswordSetResult, ShownOnce, User};
use tessera_protocol::admin::FieldError;
use tessera_store::{AuditEvent, Outcome, Tx, UserRecord};

use super::{target, version_to_change, view};
use crate::accounts::{end_access, Ended};
use crate::admin::{AdminError, AdminPrincipal};
use crate::backchannel::LogoutNotices;
use crate::secret::RandomSecret;
use crate::{Provider, RequestContext};

/// What a deleted person's `username_key` becomes. It holds spaces, which no username may
/// (RFC 8265 §3.3 builds usernames on the IdentifierClass, which has none), so it can never
/// collide with a person's; and the id makes it unique.
fn tombstone_key(id: &str) -> String {
    format!("deleted user {id}")
}

/// The audit detail of ended access.
fn ended_detail(event: &mut AuditEvent, ended: &Ended) {
    event.detail["revoked_refresh_tokens"] = json!(ended.revoked.refresh_tokens);
    event.detail["revoked_access_tokens"] = json!(ended.revoked.access_tokens);
    event.detail["ended_sessions"] = json!(ended.sessions);
}

/// A password chosen for an administrator who asked Tessera to generate one: 256 random
/// bits, base64url, far beyond the policy's minimum and in no breach list.
fn generated_password() -> SecretString {
    SecretString::from(RandomSecret::generate().expose().to_string())
}

impl Provider {
    /// The person and the version to change, or why not.
    async fn to_change(
        &self,
        id: &str,
        expected: Option<i64>,
    ) -> Result<(UserRecord, i64), AdminError> {
        let current = self.inner.store.user_record(id).await?;
        let current = current.ok_or(AdminError::NotFound)?;
        let version = version_to_change(&current, expected)?;
        Ok((current, version))
    }

    /// The logout tokens owed when every session of `id` ends.
    async fn notices_for_all_sessions(
        &self,
        id: &str,
        now: i64,
    ) -> Result<LogoutNotices, AdminError> {
        let sids = self.inner.store.session_sids(id, None).await?;
        Ok(self.logout_notices(id, sids, now).await?)
    }

    /// The view after a change, read in its transaction, and the commit.
    async fn commit_view(&self, mut tx: Tx, id: &str) -> Result<User, AdminError> {
        let user = tx.user_record(id).await?.ok_or(AdminError::NotFound)?;
        tx.commit().await?;
        Ok(view(user))
    }

    /// `POST /users/{id}/disable` and `/enable`. Disabling ends all of the person's access;
    /// enabling brings none of it back.
    pub async fn admin_set_user_disabled(
        &self,
        principal: &AdminPrincipal,
        id: &str,
        expected: Option<i64>,
        disabled: bool,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<User, AdminError> {
        let (_, version) = self.to_change(id, expected).await?;
        let notices = match disabled {
            true => Some(self.notices_for_all_sessions(id, now).await?),
            false => None,
        };

        let mut tx = self.inner.store.begin().await?;
        let what = if disabled {
            "disable them"
        } else {
            "enable them"
        };
        if let Err(refusal) = principal.must_outrank(&mut tx, id, what).await {
            tx.rollback().await?;
            return Err(refusal);
        }
        if !tx
            .set_user_disabled_at_version(id, version, disabled, now)
            .await?
        {
            tx.rollback().await?;
            return Err(AdminError::VersionMismatch);
        }
        let action = if disabled {
            "admin.user.disable"
        } else {
            "admin.user.enable"
        };
        let mut event = principal.event(action, Outcome::Success, target(id), now, ctx);
        if disabled {
            let ended = end_access(&mut tx, id, notices.as_ref(), now).await?;
            ended_detail(&mut event, &ended);
        }
        tx.record(&event).await?;
        self.commit_view(tx, id).await
    }

    /// `DELETE /users/{id}`: the person becomes a tombstone. Their `sub` stays taken for
    /// ever (OIDC Core §2); their username is free for someone new; everything else about
    /// them (profile, password, factors, keys, sessions, consents, roles, the networks,
    /// countries, places and hours risk scoring learned from their logins) is erased, and
    /// their tokens are revoked.
    pub async fn admin_delete_user(
        &self,
        principal: &AdminPrincipal,
        id: &str,
        expected: Option<i64>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(), AdminError> {
        let (_, version) = self.to_change(id, expected).await?;
        let notices = Some(self.notices_for_all_sessions(id, now).await?);

        let mut tx = self.inner.store.begin().await?;
        if let Err(refusal) = principal.must_outrank(&mut tx, id, "delete them").await {
            tx.rollback().await?;
            return Err(refusal);
        }
        if !tx
            .tombstone_user(id, version, &tombstone_key(id), now)
            .await?
        {
            tx.rollback().await?;
            return Err(AdminError::VersionMismatch);
        }
        tx.delete_factors(id).await?;
        tx.delete_user_grants(id).await?;
        tx.delete_risk_history(id).await?;
        let ended = end_access(&mut tx, id, notices.as_ref(), now).await?;
        let mut event =
            principal.event("admin.user.delete", Outcome::Success, target(id), now, ctx);
        ended_detail(&mut event, &ended);
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `PUT /users/{id}/password`: the password the administrator gives, checked against the
    /// policy, or a generated one returned once. As when the person changes it themselves,
    /// whoever knew the old one loses what it opened: every session ends and every token is
    /// revoked.
    pub async fn admin_set_password(
        &self,
        principal: &AdminPrincipal,
        id: &str,
        expected: Option<i64>,
        request: PasswordSet,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<PasswordSetResult, AdminError> {
        let (password, generated) = self.password_to_set(request.password, request.generate)?;
        let (_, version) = self.to_change(id, expected).await?;
        let hash = self.hash_password(password).await?;
        let notices = Some(self.notices_for_all_sessions(id, now).await?);

        let mut tx = self.inner.store.begin().await?;
        // Whoever sets a person's password can log in as them.
        if let Err(refusal) = principal
            .must_outrank(&mut tx, id, "set their password")
            .await
        {
            tx.rollback().await?;
            return Err(refusal);
        }
        let must_change = request.must_change_password;
        if !tx
            .set_password_at_version(id, version, &hash, must_change, now)
            .await?
        {
            tx.rollback().await?;
            return Err(AdminError::VersionMismatch);
        }
        let ended = end_access(&mut tx, id, notices.as_ref(), now).await?;
        let mut event = principal.event(
            "admin.user.password",
            Outcome::Success,
            target(id),
            now,
            ctx,
        );
        event.detail["generated"] = json!(generated.is_some());
        event.detail["must_change_password"] = json!(must_change);
        ended_detail(&mut event, &ended);
        tx.record(&event).await?;
        let user = self.commit_view(tx, id).await?;
        Ok(PasswordSetResult {
            user,
            generated_password: generated.map(ShownOnce),
        })
    }

    /// The password to hash, and a copy to show when Tessera generated it. Exactly one of
    /// `password` and `generate` is given; a given password meets the policy.
    fn password_to_set(
        &self,
        password: Option<SecretString>,
        generate: bool,
    ) -> Result<(SecretString, Option<SecretString>), AdminError> {
        match (password, generate) {
            (Some(_), true) => Err(AdminError::Invalid(vec![
                FieldError::new("/password", "give a password or ask for one, not both"),
                FieldError::new("/generate", "give a password or ask for one, not both"),
            ])),
            (None, false) => Err(AdminError::Invalid(vec![FieldError::new(
                "/password",
                "give a password, or set generate to true",
            )])),
            (Some(password), false) => {
                let policy = self.inner.settings.password_policy();
                if let Err(refusal) = policy.check(&password) {
                    return Err(AdminError::invalid("/password", refusal.to_string()));
                }
                Ok((password, None))
            }
            (None, true) => {
                let password = generated_password();
                Ok((password.clone(), Some(password)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tombstone_key;
    use crate::username::username_key;

    #[test]
    fn a_tombstone_key_is_no_username_s_key() {
        let key = tombstone_key("0b9c6f0e-4d1f-4a55-9c57-5f3b8f1f0f7a");
        assert!(username_key(&key).is_err());
    }
}
