//! `GET` and `PUT /users/{id}/roles`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::admin::user_roles::{ROLES_READ, ROLES_UPDATE};
use tessera_core::admin::AdminError;
use tessera_protocol::admin::{etag, AdminScope, Problem, UserRoles, UserRolesUpdate};
use tessera_store::Outcome;

use super::{refused, subject};
use crate::admin::extract::{AdminCall, AdminJson, IfMatch, IfMatchVersion};
use crate::admin::problem::ApiError;
use crate::AppState;

/// The roles with the person's version as their `ETag` (RFC 9110 §8.8.3).
fn with_etag(roles: UserRoles) -> Response {
    let tag = HeaderValue::from_str(&etag(roles.version));
    let mut response = Json(roles).into_response();
    if let Ok(tag) = tag {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// The roles the person holds, and the version to send back in `If-Match` to change them.
#[utoipa::path(
    get,
    path = "/users/{id}/roles",
    tag = "users",
    security(("bearer" = ["admin:users:read"])),
    params(("id" = String, Path, description = "The person's id (their `sub`)")),
    responses(
        (status = 200, description = "The person's roles", body = UserRoles,
         headers(("ETag" = String, description = "The person's version"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:read, or a person's token has no second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn read_roles(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let person = subject(&state, &call, AdminScope::UsersRead, ROLES_READ, path).await?;
    match state.provider.admin_user_roles(&person.ids).await {
        Ok(roles) => {
            let event = call.event(ROLES_READ, Outcome::Success, person.target);
            call.write(&state, &event).await;
            Ok(with_etag(roles))
        }
        Err(err) => Err(call.failed(&state, ROLES_READ, person.target, err).await),
    }
}

/// Sets the person's roles to exactly the list given. The caller must hold every scope of
/// every role it grants or takes away; the change applies only to the version `If-Match`
/// names.
#[utoipa::path(
    put,
    path = "/users/{id}/roles",
    tag = "users",
    security(("bearer" = ["admin:roles:write"])),
    params(
        ("id" = String, Path, description = "The person's id (their `sub`)"),
        ("If-Match" = String, Header, description = "The ETag of the roles as read, or `*`"),
    ),
    request_body = UserRolesUpdate,
    responses(
        (status = 200, description = "The roles now held", body = UserRoles,
         headers(("ETag" = String, description = "The person's new version"))),
        (status = 400, description = "An unknown or repeated role, or an unreadable body; `errors` names each", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:roles:write, a person's token has no second factor, or a changed role has a scope the caller does not hold", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since the version `If-Match` names", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn set_roles(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
    if_match: Result<IfMatch, ApiError>,
    body: Result<AdminJson<UserRolesUpdate>, ApiError>,
) -> Result<Response, ApiError> {
    let person = subject(&state, &call, AdminScope::RolesWrite, ROLES_UPDATE, path).await?;
    let target = person.target;
    let update = match body {
        Ok(AdminJson { value, .. }) => value,
        Err(error) => return Err(refused(&state, &call, ROLES_UPDATE, target, error).await),
    };
    let expected = match if_match {
        Ok(IfMatch(IfMatchVersion::Any)) => None,
        Ok(IfMatch(IfMatchVersion::Version(version))) => Some(version),
        Ok(IfMatch(IfMatchVersion::Never)) => {
            let err = AdminError::VersionMismatch;
            return Err(call.failed(&state, ROLES_UPDATE, target, err).await);
        }
        Err(error) => return Err(refused(&state, &call, ROLES_UPDATE, target, error).await),
    };

    let (now, ctx) = (call.meta.now, &call.meta.ctx);
    let result = state
        .provider
        .admin_set_user_roles(&call.principal, &person.ids, expected, &update, now, ctx)
        .await;
    match result {
        Ok(roles) => Ok(with_etag(roles)),
        Err(err) => Err(call.failed(&state, ROLES_UPDATE, target, err).await),
    }
}
