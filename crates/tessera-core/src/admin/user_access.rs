//! A person's factors, browser sessions and refresh tokens, as an admin lists and ends them
//! (`/admin/v1/users/{id}/factors|sessions|refresh-tokens`).
//!
//! Enforces:
//! - everything is looked up through the person named in the path, so a session, family or
//!   key of someone else is not found, whatever its id;
//! - removing a factor ends everything it may have signed in, as the command line's factor
//!   reset does: every token of the person is revoked, every session ended, and the apps
//!   those sessions served are sent back-channel logout tokens (Back-Channel Logout 1.0
//!   §2.7). Recovery codes go with the last real factor: they stand in for one, and alone
//!   they would unlock nothing but could still be stolen;
//! - ending a session revokes the refresh-token families started in it and the access tokens
//!   of those families and of its codes, and notifies the apps it served (§2.7);
//! - each change and its audit event share one transaction.

use serde_json::{json, Value};
use tessera_protocol::admin::{
    encode_cursor, Factor, FactorId, FactorList, PageRequest, RefreshFamilyList, RefreshFamilyView,
    SessionList, SessionView,
};
use tessera_store::{Outcome, PageAfter, Revoked};

use super::{AdminError, AdminPrincipal};
use crate::accounts::end_access;
use crate::devices::end_sessions;
use crate::{Provider, RequestContext};

/// Audit actions of this module.
pub mod actions {
    pub const FACTORS_LIST: &str = "admin.user.factors.list";
    pub const FACTOR_DELETE: &str = "admin.user.factor.delete";
    pub const SESSIONS_LIST: &str = "admin.user.sessions.list";
    pub const SESSION_DELETE: &str = "admin.user.session.delete";
    pub const REFRESH_TOKENS_LIST: &str = "admin.user.refresh_tokens.list";
    pub const REFRESH_TOKEN_DELETE: &str = "admin.user.refresh_token.delete";
}

/// The audit target of a call on the person `user_id`, and of their `part` when one is named.
pub fn target(user_id: &str, part: Option<(&str, &str)>) -> Value {
    let mut target = json!({ "user": user_id });
    if let Some((kind, id)) = part {
        target[kind] = json!(id);
    }
    target
}

pub(super) fn revoked_detail(revoked: Revoked) -> Value {
    json!({
        "revoked_refresh_tokens": revoked.refresh_tokens,
        "revoked_access_tokens": revoked.access_tokens,
    })
}

fn page_after(page: &PageRequest) -> Option<PageAfter> {
    page.after.as_ref().map(|(created_at, id)| PageAfter {
        created_at: *created_at,
        id: id.clone(),
    })
}

/// Cuts the extra row fetched past the page; the cursor points after the last row kept.
pub(super) fn split_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next = rows.last().map(key);
    (rows, next)
}

impl Provider {
    /// 404 unless `user_id` is a person (a tombstone is none).
    pub(super) async fn admin_known_user(&self, user_id: &str) -> Result<(), AdminError> {
        match self.inner.store.user_version(user_id).await? {
            Some(_) => Ok(()),
            None => Err(AdminError::NotFound),
        }
    }

    /// Every second factor of the person: authenticator app, recovery codes, keys.
    pub async fn admin_user_factors(&self, user_id: &str) -> Result<FactorList, AdminError> {
        self.admin_known_user(user_id).await?;
        let store = &self.inner.store;
        let mut items = Vec::new();

        if let Some(totp) = store.totp_dates(user_id).await? {
            items.push(Factor::Totp {
                id: FactorId::TOTP.to_string(),
                created_at: totp.created_at,
                confirmed_at: totp.confirmed_at,
            });
        }
        if let Some(codes) = store.recovery_code_set(user_id).await? {
            items.push(Factor::RecoveryCodes {
                id: FactorId::RECOVERY_CODES.to_string(),
                created_at: codes.created_at,
                remaining: codes.unused,
            });
        }
        for key in store.webauthn_credentials(user_id).await? {
            items.push(Factor::Webauthn {
                id: FactorId::webauthn_id(&key.credential_id),
                name: key.name,
                created_at: key.created_at,
                last_used_at: key.last_used_at,
                backup_eligible: key.backup_eligible,
                backed_up: key.backed_up,
            });
        }
        Ok(FactorList { items })
    }

    /// Removes one factor and ends the person's sessions and tokens (see the module).
    pub async fn admin_remove_factor(
        &self,
        principal: &AdminPrincipal,
        user_id: &str,
        factor_id: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(), AdminError> {
        self.admin_known_user(user_id).await?;
        let factor = FactorId::parse(factor_id).ok_or(AdminError::NotFound)?;
        let store = &self.inner.store;
        let sids = store.session_sids(user_id, None).await?;
        let notices = self.logout_notices(user_id, sids, now).await?;

        let mut tx = store.begin().await?;
        if let Err(refusal) = principal
            .must_outrank(&mut tx, user_id, "remove their factors")
            .await
        {
            tx.rollback().await?;
            return Err(refusal);
        }
        let removed = match &factor {
            FactorId::Totp => tx.delete_totp_factor(user_id).await?,
            FactorId::RecoveryCodes => tx.delete_recovery_codes(user_id).await? > 0,
            FactorId::Webauthn(id) => tx.delete_webauthn_credential(user_id, id).await?,
        };
        if !removed {
            tx.rollback().await?;
            return Err(AdminError::NotFound);
        }

        let last_factor =
            factor != FactorId::RecoveryCodes && !tx.holds_second_factor(user_id).await?;
        if last_factor {
            tx.delete_recovery_codes(user_id).await?;
        }

        let ended = end_access(&mut tx, user_id, Some(&notices), now).await?;
        let target = target(user_id, Some(("factor", factor_id)));
        let mut event = principal.event(actions::FACTOR_DELETE, Outcome::Success, target, now, ctx);
        event.detail["last_factor"] = json!(last_factor);
        event.detail["ended_sessions"] = json!(ended.sessions);
        event.detail["ended"] = revoked_detail(ended.revoked);
        event.detail["logout_notices"] = json!(notices.len());
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One page of the person's live sessions, oldest first, each with the clients it served.
    pub async fn admin_user_sessions(
        &self,
        user_id: &str,
        page: &PageRequest,
        now: i64,
    ) -> Result<SessionList, AdminError> {
        self.admin_known_user(user_id).await?;
        let store = &self.inner.store;
        let after = page_after(page);
        let rows = store
            .live_sessions(user_id, now, after.as_ref(), i64::from(page.limit) + 1)
            .await?;
        let (rows, next_cursor) =
            split_page(rows, page.limit, |s| encode_cursor(s.created_at, &s.sid));

        let mut items = Vec::with_capacity(rows.len());
        for session in rows {
            let mut clients = store.session_clients(&session.sid).await?;
            clients.sort();
            items.push(SessionView {
                amr: session.amr.split_whitespace().map(str::to_string).collect(),
                sid: session.sid,
                auth_time: session.auth_time,
                created_at: session.created_at,
                expires_at: session.expires_at,
                device_id: session.device_id,
                clients,
            });
        }
        Ok(SessionList { items, next_cursor })
    }

    /// Ends the person's session `sid` and what was issued through it (see the module).
    pub async fn admin_end_session(
        &self,
        principal: &AdminPrincipal,
        user_id: &str,
        sid: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(), AdminError> {
        self.admin_known_user(user_id).await?;
        let store = &self.inner.store;
        // Checked before any logout token is signed for it: another person's session is
        // not found, and announces nothing.
        if store
            .live_session_by_sid(user_id, sid, now)
            .await?
            .is_none()
        {
            return Err(AdminError::NotFound);
        }
        let notices = self
            .logout_notices(user_id, vec![sid.to_string()], now)
            .await?;

        let mut tx = store.begin().await?;
        if let Err(refusal) = principal
            .must_outrank(&mut tx, user_id, "end their sessions")
            .await
        {
            tx.rollback().await?;
            return Err(refusal);
        }
        let ended = end_sessions(&mut tx, user_id, &[sid.to_string()], now).await?;
        if ended.sessions == 0 {
            tx.rollback().await?;
            return Err(AdminError::NotFound);
        }
        notices.queue(&mut tx, now).await?;

        let target = target(user_id, Some(("session", sid)));
        let mut event =
            principal.event(actions::SESSION_DELETE, Outcome::Success, target, now, ctx);
        event.detail["ended"] = revoked_detail(ended.revoked);
        event.detail["logout_notices"] = json!(notices.len());
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One page of the person's refresh-token families that can still be redeemed.
    pub async fn admin_user_refresh_families(
        &self,
        user_id: &str,
        page: &PageRequest,
        now: i64,
    ) -> Result<RefreshFamilyList, AdminError> {
        self.admin_known_user(user_id).await?;
        let after = page_after(page);
        let rows = self
            .inner
            .store
            .live_refresh_families(user_id, now, after.as_ref(), i64::from(page.limit) + 1)
            .await?;
        let (rows, next_cursor) = split_page(rows, page.limit, |f| {
            encode_cursor(f.created_at, &f.family_id)
        });
        let items = rows
            .into_iter()
            .map(|family| RefreshFamilyView {
                family_id: family.family_id,
                client_id: family.client_id,
                scope: family.scope,
                created_at: family.created_at,
                last_used_at: family.last_used_at,
                expires_at: family.expires_at,
                idle_expires_at: family.idle_expires_at,
            })
            .collect();
        Ok(RefreshFamilyList { items, next_cursor })
    }

    /// Revokes the person's family `family_id` and every access token issued from it.
    pub async fn admin_revoke_refresh_family(
        &self,
        principal: &AdminPrincipal,
        user_id: &str,
        family_id: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(), AdminError> {
        self.admin_known_user(user_id).await?;
        let mut tx = self.inner.store.begin().await?;
        if let Err(refusal) = principal
            .must_outrank(&mut tx, user_id, "revoke their tokens")
            .await
        {
            tx.rollback().await?;
            return Err(refusal);
        }
        if !tx
            .holds_live_refresh_family(user_id, family_id, now)
            .await?
        {
            tx.rollback().await?;
            return Err(AdminError::NotFound);
        }
        let revoked = tx.revoke_refresh_family(family_id, now).await?;

        let target = target(user_id, Some(("refresh_token_family", family_id)));
        let mut event = principal.event(
            actions::REFRESH_TOKEN_DELETE,
            Outcome::Success,
            target,
            now,
            ctx,
        );
        event.detail["ended"] = revoked_detail(revoked);
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(())
    }
}
