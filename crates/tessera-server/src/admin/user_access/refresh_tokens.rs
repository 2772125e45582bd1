//! `GET /users/{id}/refresh-tokens` and `DELETE /users/{id}/refresh-tokens/{family_id}`.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::admin::user_access::{actions, target};
use tessera_protocol::admin::{AdminScope, Problem, RefreshFamilyList};

use super::{page, read, removed, subject, ListQuery, PathIds};
use crate::admin::extract::AdminCall;
use crate::admin::problem::ApiError;
use crate::AppState;

#[derive(Deserialize)]
pub(in crate::admin) struct FamilyPath {
    id: String,
    family_id: String,
}

impl PathIds for FamilyPath {
    fn target(&self) -> Value {
        target(&self.id, Some(("refresh_token_family", &self.family_id)))
    }

    fn parts(&self) -> Vec<&str> {
        vec![&self.id, &self.family_id]
    }
}

/// The person's refresh-token families that can still be redeemed, oldest first.
#[utoipa::path(
    get,
    path = "/users/{id}/refresh-tokens",
    tag = "users",
    security(("bearer" = ["admin:users:read"])),
    params(
        ("id" = String, Path, description = "The person's id (their `sub`)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Families per page, 50 if absent"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of refresh-token families", body = RefreshFamilyList),
        (status = 400, description = "`limit` or `cursor` is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:read, or a person's token has no second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn list_families(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let action = actions::REFRESH_TOKENS_LIST;
    let person = subject(&state, &call, AdminScope::UsersRead, action, path).await?;
    let page = page(&state, &call, action, &person.target, query).await?;
    let now = call.meta.now;
    let result = state
        .provider
        .admin_user_refresh_families(&person.ids, &page, now)
        .await;
    read(&state, &call, action, person.target, result).await
}

/// Revokes a refresh-token family: every token of the grant, and the access tokens issued
/// from it (RFC 7009 §2.1).
#[utoipa::path(
    delete,
    path = "/users/{id}/refresh-tokens/{family_id}",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    params(
        ("id" = String, Path, description = "The person's id (their `sub`)"),
        ("family_id" = String, Path, description = "The family's id, as listed"),
    ),
    responses(
        (status = 204, description = "The family is revoked"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write, or a person's token has no second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person, or no live family of theirs with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn revoke_family(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<FamilyPath>, PathRejection>,
) -> Result<Response, ApiError> {
    let action = actions::REFRESH_TOKEN_DELETE;
    let person = subject(&state, &call, AdminScope::UsersWrite, action, path).await?;
    let FamilyPath { id, family_id } = &person.ids;
    let (now, ctx) = (call.meta.now, &call.meta.ctx);
    let result = state
        .provider
        .admin_revoke_refresh_family(&call.principal, id, family_id, now, ctx)
        .await;
    removed(&state, &call, action, person.target, result).await
}
