//! `GET /admin/v1/audit-events` (`admin:audit:read`): the audit trail, newest first.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_core::admin::audit::LIST;
use tessera_core::admin::AdminError;
use tessera_protocol::admin::audit::{AuditEventList, AuditEventParams, AuditEventQuery};
use tessera_protocol::admin::{AdminScope, Problem};
use tessera_store::Outcome;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::AdminCall;
use super::problem::ApiError;
use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The recorded events that match every filter given, newest first, a page at a time. This
/// query is itself recorded, after it ran.
#[utoipa::path(
    get,
    path = "/audit-events",
    tag = "audit",
    security(("bearer" = ["admin:audit:read"])),
    params(AuditEventParams),
    responses(
        (status = 200, description = "A page of events", body = AuditEventList),
        (status = 400, description = "A parameter is invalid, unknown or repeated", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:audit:read", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<AppState>,
    call: AdminCall,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    call.require(&state, AdminScope::AuditRead, LIST, json!(null))
        .await?;
    let pairs = url::form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes());
    let query = match AuditEventQuery::parse(pairs) {
        Ok(query) => query,
        Err(errors) => {
            let err = AdminError::Invalid(errors);
            return Err(call.failed(&state, LIST, json!(null), err).await);
        }
    };
    let target = json!({
        "user_id": query.user_id,
        "client_id": query.client_id,
        "type": query.event_type,
        "outcome": query.outcome,
        "since": query.since,
        "until": query.until,
    });
    match state.provider.admin_audit_events(&query).await {
        Ok(page) => {
            call.write(&state, &call.event(LIST, Outcome::Success, target))
                .await;
            Ok(Json(page).into_response())
        }
        Err(err) => Err(call.failed(&state, LIST, target, err).await),
    }
}
