//! `GET /admin/v1/risk-policy` (`admin:audit:read`): the weights and thresholds that logins
//! are scored with, and whether GeoIP is on, so that an auditor can read the scores in the
//! trail.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_core::admin::risk::READ;
use tessera_protocol::admin::risk::RiskPolicy;
use tessera_protocol::admin::{AdminScope, Problem};
use tessera_store::Outcome;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::AdminCall;
use super::problem::ApiError;
use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_risk_policy))
}

/// The risk policy of the instance that answers: each signal's weight, the scores above
/// which a second factor is needed and a login refused, and whether the GeoIP database
/// that `new_country` and `impossible_travel` need is loaded (with the reason when not).
#[utoipa::path(
    get,
    path = "/risk-policy",
    tag = "audit",
    security(("bearer" = ["admin:audit:read"])),
    responses(
        (status = 200, description = "The risk policy", body = RiskPolicy),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:audit:read", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn read_risk_policy(
    State(state): State<AppState>,
    call: AdminCall,
) -> Result<Response, ApiError> {
    call.require(&state, AdminScope::AuditRead, READ, json!(null))
        .await?;
    let policy = state.provider.admin_risk_policy();
    call.write(&state, &call.event(READ, Outcome::Success, json!(null)))
        .await;
    Ok(Json(policy).into_response())
}
