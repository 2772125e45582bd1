//! `/admin/v1/users`: people, as an administrator manages them.
//!
//! Each handler verifies the caller, demands its scope, then reads the body and the
//! precondition: a caller without the scope learns nothing about what it sent. The domain
//! (`tessera_core::admin::users`) validates, writes the change with its audit event, and
//! answers with the person's view, sent with its `ETag`.

use axum::extract::{FromRequestParts, Path, Query, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_core::admin::users::target;
use tessera_core::admin::AdminError;
use tessera_protocol::admin::users::{
    NewUser, PasswordSet, PasswordSetResult, User, UserList, UserListQuery, UserPatch,
};
use tessera_protocol::admin::{etag, AdminScope, FieldError, Problem};
use tessera_store::Outcome;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminCall, AdminJson, IfMatch, IfMatchVersion};
use super::problem::ApiError;
use super::replay;
use crate::error::no_store;
use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(set_password))
}

/// The `{id}` of a path; a malformed one is a problem, like every other refusal.
pub(crate) struct UserId(String);

impl FromRequestParts<AppState> for UserId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            // Tessera's ids hold no control characters (and PostgreSQL's text no NUL).
            Ok(Path(id)) if id.chars().any(char::is_control) => Err(ApiError::not_found()),
            Ok(Path(id)) => Ok(Self(id)),
            Err(_) => Err(ApiError::invalid(vec![FieldError::new(
                "id",
                "not a valid path segment",
            )])),
        }
    }
}

/// A person's view with its `ETag` (RFC 9110 §8.8.3).
fn with_etag(status: StatusCode, user: &User) -> Response {
    let mut response = (status, Json(user)).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(user.version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

impl AdminCall {
    /// Records a request refused before the domain saw it (a body or precondition the
    /// extractors refused), and returns the refusal.
    async fn refused(
        &self,
        state: &AppState,
        action: &'static str,
        target: serde_json::Value,
        error: ApiError,
    ) -> ApiError {
        let mut event = self.event(action, Outcome::Failure, target);
        event.detail["status"] = json!(error.kind_status());
        self.write(state, &event).await;
        error
    }

    /// The version `If-Match` names (`None` for `*`), or the refusal: 428 without it, 412
    /// for a tag Tessera never sent.
    async fn version(
        &self,
        state: &AppState,
        action: &'static str,
        target: serde_json::Value,
        if_match: Result<IfMatch, ApiError>,
    ) -> Result<Option<i64>, ApiError> {
        let refusal = match if_match {
            Ok(IfMatch(IfMatchVersion::Any)) => return Ok(None),
            Ok(IfMatch(IfMatchVersion::Version(version))) => return Ok(Some(version)),
            Ok(IfMatch(IfMatchVersion::Never)) => ApiError::from_admin(
                tessera_core::admin::AdminError::VersionMismatch,
                &self.meta.request_id,
            ),
            Err(error) => error,
        };
        Err(self.refused(state, action, target, refusal).await)
    }

    /// The parsed body, or its refusal, recorded.
    async fn body<T>(
        &self,
        state: &AppState,
        action: &'static str,
        target: serde_json::Value,
        body: Result<AdminJson<T>, ApiError>,
    ) -> Result<AdminJson<T>, ApiError> {
        match body {
            Ok(body) => Ok(body),
            Err(error) => Err(self.refused(state, action, target, error).await),
        }
    }

    /// The person a call is about, or its refusal, recorded.
    async fn user_id(
        &self,
        state: &AppState,
        action: &'static str,
        id: Result<UserId, ApiError>,
    ) -> Result<String, ApiError> {
        match id {
            Ok(UserId(id)) => Ok(id),
            Err(error) => Err(self.refused(state, action, json!(null), error).await),
        }
    }

    /// A read's audit event.
    async fn read(&self, state: &AppState, action: &'static str, target: serde_json::Value) {
        let event = self.event(action, Outcome::Success, target);
        self.write(state, &event).await;
    }
}

const CREATE: &str = "admin.user.create";

/// Create a person. Without a password the account cannot log in by password until an
/// administrator sets one. Send `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    request_body = NewUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer to a retry of the same request")),
    responses(
        (status = 201, description = "Created", body = User,
         headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key used for another request", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_user(
    State(state): State<AppState>,
    call: AdminCall,
    uri: Uri,
    headers: HeaderMap,
    body: Result<AdminJson<NewUser>, ApiError>,
) -> Result<Response, ApiError> {
    let target = json!(null);
    call.require(&state, AdminScope::UsersWrite, CREATE, target.clone())
        .await?;
    let body = call.body(&state, CREATE, target.clone(), body).await?;
    let key = match call.idempotency_key(&headers, &Method::POST, uri.path(), &body.raw) {
        Ok(key) => key,
        Err(error) => return Err(call.refused(&state, CREATE, target, error).await),
    };
    if let Some(key) = &key {
        if let Some(answer) = replay::prior(&state, &call, key, CREATE).await? {
            return Ok(answer);
        }
    }

    let meta = &call.meta;
    match state
        .provider
        .admin_create_user(
            &call.principal,
            body.value,
            key.as_ref(),
            meta.now,
            &meta.ctx,
        )
        .await
    {
        Ok(created) => {
            let mut response = with_etag(StatusCode::CREATED, &created.user);
            if let Ok(location) = HeaderValue::from_str(&created.location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Err(err) => {
            // A parallel request with the same key may have created the person first: the
            // username is then taken, and that request's answer is the one to give.
            if let (AdminError::Conflict(_), Some(key)) = (&err, &key) {
                if let Some(answer) = replay::prior(&state, &call, key, CREATE).await? {
                    return Ok(answer);
                }
            }
            Err(call.failed(&state, CREATE, target, err).await)
        }
    }
}

const LIST: &str = "admin.user.list";

/// List people, oldest first; deleted people are never listed.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    security(("bearer" = ["admin:users:read"])),
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of people", body = UserList),
        (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:read", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    call: AdminCall,
    RawQuery(raw): RawQuery,
    query: Result<Query<UserListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let target = json!(null);
    call.require(&state, AdminScope::UsersRead, LIST, target.clone())
        .await?;
    let unknown = UserListQuery::unknown_parameters(raw.as_deref().unwrap_or_default());
    if !unknown.is_empty() {
        return Err(call
            .refused(&state, LIST, target, ApiError::invalid(unknown))
            .await);
    }
    let Ok(Query(query)) = query else {
        let error = ApiError::invalid(vec![FieldError::new(
            "query",
            "each parameter may be given once, as text",
        )]);
        return Err(call.refused(&state, LIST, target, error).await);
    };
    match state.provider.admin_users(&query).await {
        Ok(list) => {
            call.read(&state, LIST, target).await;
            Ok(Json(list).into_response())
        }
        Err(err) => Err(call.failed(&state, LIST, target, err).await),
    }
}

const READ: &str = "admin.user.read";

/// Read a person.
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "users",
    security(("bearer" = ["admin:users:read"])),
    params(("id" = String, Path, description = "The person's id (their sub)")),
    responses(
        (status = 200, description = "The person", body = User, headers(("ETag" = String))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person, or deleted", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_user(
    State(state): State<AppState>,
    call: AdminCall,
    id: Result<UserId, ApiError>,
) -> Result<Response, ApiError> {
    call.require(&state, AdminScope::UsersRead, READ, json!(null))
        .await?;
    let id = call.user_id(&state, READ, id).await?;
    match state.provider.admin_user(&id).await {
        Ok(user) => {
            call.read(&state, READ, target(&id)).await;
            Ok(with_etag(StatusCode::OK, &user))
        }
        Err(err) => Err(call.failed(&state, READ, target(&id), err).await),
    }
}

const UPDATE: &str = "admin.user.update";

/// Change a person's profile: a JSON merge patch (RFC 7396), where `null` clears an
/// optional field. Needs `If-Match` with the ETag read.
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    request_body(content = UserPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = String, Path, description = "The person's id (their sub)"),
        ("If-Match" = String, Header, description = "The ETag of the version this changes"),
    ),
    responses(
        (status = 200, description = "The changed person", body = User, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_user(
    State(state): State<AppState>,
    call: AdminCall,
    id: Result<UserId, ApiError>,
    if_match: Result<IfMatch, ApiError>,
    body: Result<AdminJson<UserPatch>, ApiError>,
) -> Result<Response, ApiError> {
    call.require(&state, AdminScope::UsersWrite, UPDATE, json!(null))
        .await?;
    let id = call.user_id(&state, UPDATE, id).await?;
    let expected = call.version(&state, UPDATE, target(&id), if_match).await?;
    let body = call.body(&state, UPDATE, target(&id), body).await?;
    let meta = &call.meta;
    let updated = state
        .provider
        .admin_update_user(
            &call.principal,
            &id,
            expected,
            body.value,
            meta.now,
            &meta.ctx,
        )
        .await;
    match updated {
        Ok(user) => Ok(with_etag(StatusCode::OK, &user)),
        Err(err) => Err(call.failed(&state, UPDATE, target(&id), err).await),
    }
}

const DELETE: &str = "admin.user.delete";

/// Delete a person. Their id (`sub`) is never given to anyone else; their username becomes
/// free; their profile, password, factors, keys, sessions, consents and roles are erased,
/// and their tokens revoked. Needs `If-Match`.
#[utoipa::path(
    delete,
    path = "/users/{id}",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    params(
        ("id" = String, Path, description = "The person's id (their sub)"),
        ("If-Match" = String, Header, description = "The ETag of the version this deletes"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn delete_user(
    State(state): State<AppState>,
    call: AdminCall,
    id: Result<UserId, ApiError>,
    if_match: Result<IfMatch, ApiError>,
) -> Result<Response, ApiError> {
    call.require(&state, AdminScope::UsersWrite, DELETE, json!(null))
        .await?;
    let id = call.user_id(&state, DELETE, id).await?;
    let expected = call.version(&state, DELETE, target(&id), if_match).await?;
    let meta = &call.meta;
    let deleted = state
        .provider
        .admin_delete_user(&call.principal, &id, expected, meta.now, &meta.ctx)
        .await;
    match deleted {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(err) => Err(call.failed(&state, DELETE, target(&id), err).await),
    }
}

/// Disable a person: they cannot log in, every token of theirs is revoked, their sessions
/// end and the apps those served are told by back-channel logout. Needs `If-Match`.
#[utoipa::path(
    post,
    path = "/users/{id}/disable",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    params(
        ("id" = String, Path, description = "The person's id (their sub)"),
        ("If-Match" = String, Header, description = "The ETag of the version this changes"),
    ),
    responses(
        (status = 200, description = "The disabled person", body = User, headers(("ETag" = String))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn disable_user(
    State(state): State<AppState>,
    call: AdminCall,
    id: Result<UserId, ApiError>,
    if_match: Result<IfMatch, ApiError>,
) -> Result<Response, ApiError> {
    set_disabled(state, call, id, if_match, true).await
}

/// Enable a disabled person. Nothing that disabling ended comes back. Needs `If-Match`.
#[utoipa::path(
    post,
    path = "/users/{id}/enable",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    params(
        ("id" = String, Path, description = "The person's id (their sub)"),
        ("If-Match" = String, Header, description = "The ETag of the version this changes"),
    ),
    responses(
        (status = 200, description = "The enabled person", body = User, headers(("ETag" = String))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn enable_user(
    State(state): State<AppState>,
    call: AdminCall,
    id: Result<UserId, ApiError>,
    if_match: Result<IfMatch, ApiError>,
) -> Result<Response, ApiError> {
    set_disabled(state, call, id, if_match, false).await
}

async fn set_disabled(
    state: AppState,
    call: AdminCall,
    id: Result<UserId, ApiError>,
    if_match: Result<IfMatch, ApiError>,
    disabled: bool,
) -> Result<Response, ApiError> {
    let action = if disabled {
        "admin.user.disable"
    } else {
        "admin.user.enable"
    };
    call.require(&state, AdminScope::UsersWrite, action, json!(null))
        .await?;
    let id = call.user_id(&state, action, id).await?;
    let expected = call.version(&state, action, target(&id), if_match).await?;
    let meta = &call.meta;
    let changed = state
        .provider
        .admin_set_user_disabled(
            &call.principal,
            &id,
            expected,
            disabled,
            meta.now,
            &meta.ctx,
        )
        .await;
    match changed {
        Ok(user) => Ok(with_etag(StatusCode::OK, &user)),
        Err(err) => Err(call.failed(&state, action, target(&id), err).await),
    }
}

const PASSWORD: &str = "admin.user.password";

/// Set a person's password: the one given (the password policy applies), or a generated
/// one returned once. With `must_change_password` the person chooses a new one at their
/// next login. Every session of theirs ends and every token is revoked. Refused (403) for
/// a person who holds admin rights the caller does not. Needs `If-Match`.
#[utoipa::path(
    put,
    path = "/users/{id}/password",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    request_body = PasswordSet,
    params(
        ("id" = String, Path, description = "The person's id (their sub)"),
        ("If-Match" = String, Header, description = "The ETag of the version this changes"),
    ),
    responses(
        (status = 200, description = "The password is set", body = PasswordSetResult, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write, or the person holds rights the caller does not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_password(
    State(state): State<AppState>,
    call: AdminCall,
    id: Result<UserId, ApiError>,
    if_match: Result<IfMatch, ApiError>,
    body: Result<AdminJson<PasswordSet>, ApiError>,
) -> Result<Response, ApiError> {
    call.require(&state, AdminScope::UsersWrite, PASSWORD, json!(null))
        .await?;
    let id = call.user_id(&state, PASSWORD, id).await?;
    let expected = call
        .version(&state, PASSWORD, target(&id), if_match)
        .await?;
    let body = call.body(&state, PASSWORD, target(&id), body).await?;
    let meta = &call.meta;
    let set = state
        .provider
        .admin_set_password(
            &call.principal,
            &id,
            expected,
            body.value,
            meta.now,
            &meta.ctx,
        )
        .await;
    match set {
        Ok(result) => {
            let mut response = (StatusCode::OK, Json(&result)).into_response();
            if let Ok(value) = HeaderValue::from_str(&etag(result.user.version)) {
                response.headers_mut().insert(header::ETAG, value);
            }
            // A generated password is in the body: no cache may keep it.
            no_store(&mut response);
            Ok(response)
        }
        Err(err) => Err(call.failed(&state, PASSWORD, target(&id), err).await),
    }
}
