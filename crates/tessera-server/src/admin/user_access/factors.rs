//! `GET /users/{id}/factors` and `DELETE /users/{id}/factors/{factor_id}`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::admin::user_access::{actions, target};
use tessera_protocol::admin::{AdminScope, FactorList, Problem};

use super::{read, removed, subject, PathIds};
use crate::admin::extract::AdminCall;
use crate::admin::problem::ApiError;
use crate::AppState;

#[derive(Deserialize)]
pub(in crate::admin) struct FactorPath {
    id: String,
    factor_id: String,
}

impl PathIds for FactorPath {
    fn target(&self) -> Value {
        target(&self.id, Some(("factor", &self.factor_id)))
    }

    fn parts(&self) -> Vec<&str> {
        vec![&self.id, &self.factor_id]
    }
}

/// The person's second factors: their authenticator app (also while its enrolment is
/// unconfirmed), their recovery codes and how many are left, and each WebAuthn key.
#[utoipa::path(
    get,
    path = "/users/{id}/factors",
    tag = "users",
    security(("bearer" = ["admin:users:read"])),
    params(("id" = String, Path, description = "The person's id (their `sub`)")),
    responses(
        (status = 200, description = "The person's factors", body = FactorList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:read, or a person's token has no second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn list_factors(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let action = actions::FACTORS_LIST;
    let person = subject(&state, &call, AdminScope::UsersRead, action, path).await?;
    let result = state.provider.admin_user_factors(&person.ids).await;
    read(&state, &call, action, person.target, result).await
}

/// Removes one factor: `totp`, `recovery-codes`, or `webauthn:<credential id>`. Like the
/// command line's factor reset, it revokes every token of the person and ends their sessions,
/// sending back-channel logout to the apps those sessions served; removing the last
/// authenticator or key removes the recovery codes that stand in for it.
#[utoipa::path(
    delete,
    path = "/users/{id}/factors/{factor_id}",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    params(
        ("id" = String, Path, description = "The person's id (their `sub`)"),
        ("factor_id" = String, Path, description = "`totp`, `recovery-codes`, or `webauthn:` and the credential id in base64url"),
    ),
    responses(
        (status = 204, description = "Removed; the person's tokens are revoked and sessions ended"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write, or a person's token has no second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person, or no such factor of theirs", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn remove_factor(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<FactorPath>, PathRejection>,
) -> Result<Response, ApiError> {
    let action = actions::FACTOR_DELETE;
    let person = subject(&state, &call, AdminScope::UsersWrite, action, path).await?;
    let FactorPath { id, factor_id } = &person.ids;
    let (now, ctx) = (call.meta.now, &call.meta.ctx);
    let result = state
        .provider
        .admin_remove_factor(&call.principal, id, factor_id, now, ctx)
        .await;
    removed(&state, &call, action, person.target, result).await
}
