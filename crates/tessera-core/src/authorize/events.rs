//! The audit events of the authorization endpoint: one per request, whatever it leads to.
//!
//! A request that issues a code is recorded as `authorization.code_issued` where the code
//! is stored. Every other request is `authorization.request`: a success when it opens the
//! interaction a login, step-up or consent continues (recorded with that interaction), a
//! failure when it is refused, on an error page or back at the client. The detail names
//! the OAuth error code, never its description: descriptions quote parameter names, and
//! the rest of the request is the client's to choose. A request served from a session that
//! was scored again for it carries that score; a code's event otherwise carries its login's.

use serde_json::json;
use tessera_protocol::authorize::AuthorizationRequest;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, Outcome};

use super::{audit_context, Next};
use crate::RequestContext;

/// The event type of a request that issues no code.
pub(crate) const AUTHORIZATION_REQUEST: &str = "authorization.request";

/// A refused request: where the browser goes, and what the audit trail is told.
pub(crate) struct Refusal {
    pub next: Next,
    error: &'static str,
    /// The client, once it is known to exist.
    client_id: Option<String>,
    /// Whether the error went back to the client (its redirect URI was trusted).
    redirected: bool,
}

impl Refusal {
    /// An error page: the client or its redirect URI is not trusted.
    pub fn page(err: OAuthError, client_id: Option<String>) -> Self {
        Self {
            error: err.code.as_str(),
            next: Next::ErrorPage(err),
            client_id,
            redirected: false,
        }
    }

    /// An error sent back to the client at `location`.
    pub fn redirect(location: String, err: &OAuthError, client_id: &str) -> Self {
        Self {
            next: Next::Redirect(location),
            error: err.code.as_str(),
            client_id: Some(client_id.to_string()),
            redirected: true,
        }
    }

    pub fn event(&self, now: i64, ctx: &RequestContext) -> AuditEvent {
        AuditEvent {
            occurred_at: now,
            event_type: AUTHORIZATION_REQUEST,
            outcome: Outcome::Failure,
            client_id: self.client_id.clone(),
            detail: json!({ "error": self.error, "redirected": self.redirected }),
            ..audit_context(ctx)
        }
    }
}

/// A valid request that goes on to `step` (login, second_factor or consent).
pub(crate) fn begun_event(
    request: &AuthorizationRequest,
    step: &'static str,
    now: i64,
    ctx: &RequestContext,
) -> AuditEvent {
    AuditEvent {
        occurred_at: now,
        event_type: AUTHORIZATION_REQUEST,
        outcome: Outcome::Success,
        client_id: Some(request.client_id.to_string()),
        detail: json!({ "scope": request.scope.to_string(), "next": step }),
        ..audit_context(ctx)
    }
}
