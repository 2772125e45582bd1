//! Devices and sessions from the account page: the person ends one of their devices, or one
//! session opened from it.
//!
//! Enforces: each end first passes both rules of a fresh authentication
//! ([`Provider::require_fresh`]), as the page's other changes do, so that a session left open
//! on someone else's computer cannot sign its owner out everywhere else; a device or session
//! is found only among the acting person's own (a foreign id gets the answer an unknown one
//! gets, and announces nothing); ending a device ends its sessions, revokes what they issued
//! and forgets it, ending a session does the same for that one (see [`crate::devices`]); the
//! apps the ended sessions served are sent back-channel logout tokens; the change and its one
//! audit event share a transaction. When the browser's own session is among those ended, the
//! browser is signed out.

use serde_json::json;

use super::{account_event, done, succeeded, AccountOutcome, Acting, Notice};
use crate::device::DeviceId;
use crate::devices::{end_device, end_sessions, SessionsEnded};
use crate::{Provider, ProviderError, RequestContext};

/// The audit event of ending a device.
pub(super) const END_DEVICE: &str = "account.device.end";
/// The audit event of ending a session.
pub(super) const END_SESSION: &str = "account.session.end";

/// What the audit event says was ended and taken away.
fn ended_detail(ended: &SessionsEnded, notices: usize) -> serde_json::Value {
    json!({
        "ended_sessions": ended.sessions,
        "revoked_refresh_tokens": ended.revoked.refresh_tokens,
        "revoked_access_tokens": ended.revoked.access_tokens,
        "backchannel_notifications": notices,
    })
}

impl Provider {
    /// Ends one of the acting person's devices, by its public id.
    pub(super) async fn end_account_device(
        &self,
        acting: &Acting<'_>,
        id: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let event_type = END_DEVICE;
        if let Some(elsewhere) = self.require_fresh(acting, event_type, now, ctx).await? {
            return Ok(elsewhere);
        }

        let user_id = acting.user.id.as_str();
        let Some(device) = DeviceId::parse(id) else {
            return self.no_such_device(acting, now, ctx).await;
        };
        let device_id = device.as_str();
        let notices = self.device_logout_notices(user_id, device_id, now).await?;

        let mut tx = self.inner.store.begin().await?;
        let Some(ended) = end_device(&mut tx, user_id, device_id, &notices, now).await? else {
            tx.rollback().await?;
            return self.no_such_device(acting, now, ctx).await;
        };
        let mut detail = ended_detail(&ended, notices.len());
        detail["device_id"] = json!(device_id);
        tx.record(&succeeded(
            account_event(acting, event_type, now, ctx),
            detail,
        ))
        .await?;
        tx.commit().await?;
        self.after_ending(acting, Notice::DeviceEnded, now).await
    }

    /// Ends one of the acting person's live sessions, by its public `sid`.
    pub(super) async fn end_account_session(
        &self,
        acting: &Acting<'_>,
        sid: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let event_type = END_SESSION;
        if let Some(elsewhere) = self.require_fresh(acting, event_type, now, ctx).await? {
            return Ok(elsewhere);
        }

        // Checked before any logout token is signed for it: another person's session is not
        // found, and announces nothing.
        let user_id = acting.user.id.as_str();
        let store = &self.inner.store;
        if store
            .live_session_by_sid(user_id, sid, now)
            .await?
            .is_none()
        {
            return self.no_such_session(acting, now, ctx).await;
        }
        let notices = self
            .logout_notices(user_id, vec![sid.to_string()], now)
            .await?;

        let mut tx = store.begin().await?;
        let ended = end_sessions(&mut tx, user_id, &[sid.to_string()], now).await?;
        if ended.sessions == 0 {
            tx.rollback().await?;
            return self.no_such_session(acting, now, ctx).await;
        }
        notices.queue(&mut tx, now).await?;
        let mut detail = ended_detail(&ended, notices.len());
        detail["sid"] = json!(sid);
        tx.record(&succeeded(
            account_event(acting, event_type, now, ctx),
            detail,
        ))
        .await?;
        tx.commit().await?;
        self.after_ending(acting, Notice::SessionEnded, now).await
    }

    /// The page again saying `notice`; or, when the browser's own session was among those
    /// ended, the browser signed out.
    async fn after_ending(
        &self,
        acting: &Acting<'_>,
        notice: Notice,
        now: i64,
    ) -> Result<AccountOutcome, ProviderError> {
        let still_live = self
            .live_session(Some(acting.session_id), now)
            .await?
            .is_some();
        if still_live {
            Ok(done(acting, notice))
        } else {
            Ok(AccountOutcome::SignedOut)
        }
    }

    async fn no_such_device(
        &self,
        acting: &Acting<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        self.refuse_action(
            acting,
            END_DEVICE,
            "unknown_device",
            Notice::NoSuchDevice,
            now,
            ctx,
        )
        .await
    }

    async fn no_such_session(
        &self,
        acting: &Acting<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        self.refuse_action(
            acting,
            END_SESSION,
            "unknown_session",
            Notice::NoSuchSession,
            now,
            ctx,
        )
        .await
    }
}
