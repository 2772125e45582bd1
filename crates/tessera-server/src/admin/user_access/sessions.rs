//! `GET /users/{id}/sessions` and `DELETE /users/{id}/sessions/{sid}`.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::admin::user_access::{actions, target};
use tessera_protocol::admin::{AdminScope, Problem, SessionList};

use super::{page, read, removed, subject, ListQuery, PathIds};
use crate::admin::extract::AdminCall;
use crate::admin::problem::ApiError;
use crate::AppState;

#[derive(Deserialize)]
pub(in crate::admin) struct SessionPath {
    id: String,
    sid: String,
}

impl PathIds for SessionPath {
    fn target(&self) -> Value {
        target(&self.id, Some(("session", &self.sid)))
    }

    fn parts(&self) -> Vec<&str> {
        vec![&self.id, &self.sid]
    }
}

/// The person's live browser sessions, oldest first, with the clients each one served.
#[utoipa::path(
    get,
    path = "/users/{id}/sessions",
    tag = "users",
    security(("bearer" = ["admin:users:read"])),
    params(
        ("id" = String, Path, description = "The person's id (their `sub`)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Sessions per page, 50 if absent"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of sessions", body = SessionList),
        (status = 400, description = "`limit` or `cursor` is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:read, or a person's token has no second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn list_sessions(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let action = actions::SESSIONS_LIST;
    let person = subject(&state, &call, AdminScope::UsersRead, action, path).await?;
    let page = page(&state, &call, action, &person.target, query).await?;
    let now = call.meta.now;
    let result = state
        .provider
        .admin_user_sessions(&person.ids, &page, now)
        .await;
    read(&state, &call, action, person.target, result).await
}

/// Ends one session: the refresh tokens issued through it are revoked with their access
/// tokens, and the apps it served are sent back-channel logout.
#[utoipa::path(
    delete,
    path = "/users/{id}/sessions/{sid}",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    params(
        ("id" = String, Path, description = "The person's id (their `sub`)"),
        ("sid" = String, Path, description = "The session's public id"),
    ),
    responses(
        (status = 204, description = "The session ended"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write, or a person's token has no second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person, or no live session of theirs with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn end_session(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<SessionPath>, PathRejection>,
) -> Result<Response, ApiError> {
    let action = actions::SESSION_DELETE;
    let person = subject(&state, &call, AdminScope::UsersWrite, action, path).await?;
    let SessionPath { id, sid } = &person.ids;
    let (now, ctx) = (call.meta.now, &call.meta.ctx);
    let result = state
        .provider
        .admin_end_session(&call.principal, id, sid, now, ctx)
        .await;
    removed(&state, &call, action, person.target, result).await
}
