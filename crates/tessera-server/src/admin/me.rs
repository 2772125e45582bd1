//! `GET /admin/v1/me`: lets a tool check its token before it acts.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_core::admin::Actor;
use tessera_protocol::admin::{AdminScope, Caller, Problem};
use tessera_store::Outcome;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::AdminCall;
use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// The verified caller and the admin scopes it holds now. Needs no particular scope: any
/// live admin token may ask what it is.
#[utoipa::path(
    get,
    path = "/me",
    tag = "caller",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Caller),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A person's token without a second factor", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn me(State(state): State<AppState>, call: AdminCall) -> Response {
    let (kind, id, client_id) = match &call.principal.actor {
        Actor::Person { user_id, client_id } => ("user", user_id.clone(), client_id.clone()),
        Actor::Service { client_id } => ("client", client_id.clone(), client_id.clone()),
    };
    let caller = Caller {
        kind: kind.to_string(),
        id,
        client_id,
        scopes: call
            .principal
            .scopes()
            .map(|s| AdminScope::as_str(s).to_string())
            .collect(),
    };
    let event = call.event("admin.me", Outcome::Success, json!(null));
    call.write(&state, &event).await;
    Json(caller).into_response()
}
