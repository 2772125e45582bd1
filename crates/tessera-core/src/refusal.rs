//! Attempts refused before their endpoint's own checks: a body that is not a form or cannot
//! be read, a form whose CSRF token does not match, an interaction that expired, never
//! existed or is not at the form's step, a method the endpoint does not take. Each is still
//! an access attempt (issue 6), so each leaves one failure event of its endpoint's type,
//! whose detail names the reason and nothing that was submitted.

use serde_json::json;
use tessera_store::{AuditEvent, Tx};

use crate::authorize::audit_context;
use crate::{Provider, ProviderError, RequestContext};

/// Why a request was refused before its endpoint looked at it; the `reason` in the detail.
pub mod reason {
    /// The body was not `application/x-www-form-urlencoded`, too large, or unreadable.
    pub const MALFORMED_BODY: &str = "malformed_body";
    /// The query string did not parse.
    pub const MALFORMED_QUERY: &str = "malformed_query";
    /// The form named no action the endpoint knows.
    pub const UNKNOWN_ACTION: &str = "unknown_action";
    /// The form's CSRF token is not the interaction's.
    pub const CSRF: &str = "csrf";
    /// The interaction expired, was finished, or never existed.
    pub const INTERACTION_GONE: &str = "interaction_gone";
    /// The form belongs to a step the interaction has not reached, or has already passed
    /// (consent before the login, a second factor before the password or after it was
    /// given).
    pub const OUT_OF_ORDER: &str = "out_of_order";
    /// The account form arrived without a live session to act for.
    pub const NO_SESSION: &str = "no_session";
    /// The endpoint exists but does not take the request's method (RFC 9110 §15.5.6).
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// No endpoint of the admin API has the request's path (RFC 9110 §15.5.5).
    pub const UNKNOWN_ROUTE: &str = "unknown_route";
}

/// The failure event of a refused request, before its person or client is known.
pub(crate) fn refusal_event(
    ctx: &RequestContext,
    now: i64,
    event_type: &'static str,
    reason: &'static str,
) -> AuditEvent {
    AuditEvent {
        occurred_at: now,
        event_type,
        detail: json!({ "reason": reason }),
        ..audit_context(ctx)
    }
}

impl Provider {
    /// Records a request the HTTP layer refused before calling its endpoint (see
    /// [`reason`]), as one failure of `event_type`.
    pub async fn record_refusal(
        &self,
        ctx: &RequestContext,
        now: i64,
        event_type: &'static str,
        reason: &'static str,
    ) -> Result<(), ProviderError> {
        let event = refusal_event(ctx, now, event_type, reason);
        self.inner.store.record(&event).await?;
        Ok(())
    }

    /// Rolls back `tx`, whose interaction another submission of the same form finished
    /// first (submitted twice, or in parallel), and records this request as one failure of
    /// `event_type` for `user_id` at `client_id`: what `tx` held is not what happened.
    pub(crate) async fn record_finished_elsewhere(
        &self,
        tx: Tx,
        ctx: &RequestContext,
        now: i64,
        event_type: &'static str,
        (user_id, client_id): (&str, &str),
    ) -> Result<(), ProviderError> {
        tx.rollback().await?;
        let mut event = refusal_event(ctx, now, event_type, reason::INTERACTION_GONE);
        event.user_id = Some(user_id.to_string());
        event.client_id = Some(client_id.to_string());
        self.inner.store.record(&event).await?;
        Ok(())
    }
}
