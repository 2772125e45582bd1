//! `/admin/v1/clients`: registering apps, reading, listing, changing and removing them, and
//! rotating their secrets (`tessera_core::admin::clients` holds the rules).
//!
//! The caller's scope is checked before the request's other parts are looked at, so a token
//! without the scope learns nothing about the body or preconditions it sent; a refused body
//! or precondition is recorded like any other failed call.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_core::admin::idempotency::{Prior, Replay};
use tessera_protocol::admin::{
    etag, AdminScope, ClientList, ClientListQuery, ClientPatch, ClientRegistration, ClientView,
    ClientWithSecret, FieldError, Problem, ProblemType, SecretRotationRequest,
};
use tessera_store::Outcome;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminCall, AdminJson, IfMatch};
use super::problem::ApiError;
use crate::error::no_store;
use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_client, list_clients))
        .routes(routes!(get_client, update_client, delete_client))
        .routes(routes!(rotate_secret))
}

/// The audit target of a call about one client.
fn target(id: &str) -> serde_json::Value {
    json!({ "client_id": id })
}

/// A part of the request extracted after the scope check; its refusal is recorded as a
/// failed `action`.
async fn checked<T>(
    state: &AppState,
    call: &AdminCall,
    action: &'static str,
    target: &serde_json::Value,
    extracted: Result<T, ApiError>,
) -> Result<T, ApiError> {
    match extracted {
        Ok(value) => Ok(value),
        Err(err) => {
            let mut event = call.event(action, Outcome::Failure, target.clone());
            event.detail["status"] = json!(err.kind_status());
            call.write(state, &event).await;
            Err(err)
        }
    }
}

/// The client id in the path. Text without control characters is a well-formed id (an
/// unknown one is a 404); a path that does not decode to text is refused.
fn client_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    match path {
        // Tessera's ids hold no control characters (and PostgreSQL's text no NUL).
        Ok(Path(id)) if id.chars().any(char::is_control) => Err(ApiError::not_found()),
        Ok(Path(id)) => Ok(id),
        Err(_) => Err(ApiError::invalid(vec![FieldError::new(
            "id",
            "the client id must be text",
        )])),
    }
}

/// A JSON answer with the `ETag` of `version`.
fn tagged(status: StatusCode, body: &impl serde::Serialize, version: i64) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Sends a creation's answer, the first time or again to a retry.
fn replayed(answer: Replay) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::CREATED);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let location = answer.location.and_then(|l| HeaderValue::from_str(&l).ok());
    if let Some(value) = location {
        headers.insert(header::LOCATION, value);
    }
    if let Some(value) = answer.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        headers.insert(header::ETAG, value);
    }
    // The body shows a secret once; no cache may keep it.
    no_store(&mut response);
    response
}

const CREATE: &str = "admin.client.create";

/// Registers a client. A confidential client without keys gets a secret, shown in this
/// answer only. With `Idempotency-Key`, a retry of the same request gets the same answer
/// (and the same secret) for a day instead of a second client.
#[utoipa::path(
    post,
    path = "/clients",
    tag = "clients",
    security(("bearer" = ["admin:clients:write"])),
    request_body = ClientRegistration,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer (1 to 255 visible ASCII characters)")),
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = ClientWithSecret,
         headers(("Location" = String, description = "The new client"), ("ETag" = String, description = "Its version"))),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing, or admin scopes the caller does not hold", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another request with this Idempotency-Key is being answered", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused for another request", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_client(
    State(state): State<AppState>,
    call: AdminCall,
    method: Method,
    headers: HeaderMap,
    body: Result<AdminJson<ClientRegistration>, ApiError>,
) -> Result<Response, ApiError> {
    let none = json!(null);
    call.require(&state, AdminScope::ClientsWrite, CREATE, none.clone())
        .await?;
    let body = checked(&state, &call, CREATE, &none, body).await?;
    let path = format!("{}/clients", tessera_protocol::admin::PREFIX);
    let key = call.idempotency_key(&headers, &method, &path, &body.raw);
    let key = checked(&state, &call, CREATE, &none, key).await?;

    if let Some(key) = &key {
        let prior = state.provider.idempotent_prior(key, call.meta.now).await;
        match prior.map_err(|err| ApiError::fault(&err, &call.meta.request_id))? {
            Prior::None => {}
            Prior::Replay(answer) => {
                let mut event = call.event(CREATE, Outcome::Success, none);
                event.detail["replayed"] = json!(true);
                call.write(&state, &event).await;
                return Ok(replayed(answer));
            }
            Prior::Mismatch => {
                let err = ApiError::new(
                    ProblemType::IdempotencyKeyReused,
                    "this Idempotency-Key was used for a different request",
                );
                return checked(&state, &call, CREATE, &none, Err(err)).await;
            }
        }
    }

    let meta = &call.meta;
    match state
        .provider
        .admin_register_client(
            &call.principal,
            &body.value,
            key.as_ref(),
            meta.now,
            &meta.ctx,
        )
        .await
    {
        Ok(answer) => Ok(replayed(answer)),
        Err(err) => Err(call.failed(&state, CREATE, none, err).await),
    }
}

const LIST: &str = "admin.client.list";

/// Lists clients in a stable order, a page at a time; `q` filters by name or id.
#[utoipa::path(
    get,
    path = "/clients",
    tag = "clients",
    security(("bearer" = ["admin:clients:read"])),
    params(ClientListQuery),
    responses(
        (status = 200, description = "A page of clients", body = ClientList),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_clients(
    State(state): State<AppState>,
    call: AdminCall,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = list_query(raw.as_deref().unwrap_or(""));
    let target = json!({ "q": query.q });
    call.require(&state, AdminScope::ClientsRead, LIST, target.clone())
        .await?;
    match state.provider.admin_clients(&query, call.meta.now).await {
        Ok(list) => {
            let event = call.event(LIST, Outcome::Success, target);
            call.write(&state, &event).await;
            Ok(Json(list).into_response())
        }
        Err(err) => Err(call.failed(&state, LIST, target, err).await),
    }
}

/// The list parameters as sent; the last of a repeated one counts, unknown ones are
/// ignored, and their values are checked by the provider.
fn list_query(raw: &str) -> ClientListQuery {
    let mut query = ClientListQuery::default();
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let value = Some(value.into_owned());
        match name.as_ref() {
            "cursor" => query.cursor = value,
            "limit" => query.limit = value,
            "q" => query.q = value,
            _ => {}
        }
    }
    query
}

const READ: &str = "admin.client.read";

/// One client, with whether a replaced secret still works. Never shows a secret.
#[utoipa::path(
    get,
    path = "/clients/{id}",
    tag = "clients",
    security(("bearer" = ["admin:clients:read"])),
    params(("id" = String, Path, description = "The client_id")),
    responses(
        (status = 200, description = "The client", body = ClientView,
         headers(("ETag" = String, description = "Its version"))),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_client(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = client_id(path)?;
    call.require(&state, AdminScope::ClientsRead, READ, target(&id))
        .await?;
    match state.provider.admin_client(&id, call.meta.now).await {
        Ok(client) => {
            let event = call.event(READ, Outcome::Success, target(&id));
            call.write(&state, &event).await;
            Ok(tagged(StatusCode::OK, &client, client.version))
        }
        Err(err) => Err(call.failed(&state, READ, target(&id), err).await),
    }
}

const UPDATE: &str = "admin.client.update";

/// Changes a client (JSON merge patch, RFC 7396), validated as a registration. Needs the
/// `ETag` of the version read in `If-Match`.
#[utoipa::path(
    patch,
    path = "/clients/{id}",
    tag = "clients",
    security(("bearer" = ["admin:clients:write"])),
    request_body(content = ClientPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = String, Path, description = "The client_id"),
        ("If-Match" = String, Header, description = "The ETag of the version the change is based on"),
    ),
    responses(
        (status = 200, description = "The changed client", body = ClientView,
         headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing, or admin scopes the caller does not hold", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's own token was issued to this client", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The client changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_client(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
    if_match: Result<IfMatch, ApiError>,
    body: Result<AdminJson<ClientPatch>, ApiError>,
) -> Result<Response, ApiError> {
    let id = client_id(path)?;
    let target = target(&id);
    call.require(&state, AdminScope::ClientsWrite, UPDATE, target.clone())
        .await?;
    let IfMatch(expected) = checked(&state, &call, UPDATE, &target, if_match).await?;
    let body = checked(&state, &call, UPDATE, &target, body).await?;
    let meta = &call.meta;
    let updated = state
        .provider
        .admin_update_client(
            &call.principal,
            &id,
            |version| expected.matches(version),
            &body.value,
            meta.now,
            &meta.ctx,
        )
        .await;
    match updated {
        Ok(client) => Ok(tagged(StatusCode::OK, &client, client.version)),
        Err(err) => Err(call.failed(&state, UPDATE, target, err).await),
    }
}

const DELETE: &str = "admin.client.delete";

/// Removes a client and everything issued to it: its authorization codes, access and
/// refresh tokens (which stop working at once) and the consents people gave it. The audit
/// trail keeps its id. Needs `If-Match`.
#[utoipa::path(
    delete,
    path = "/clients/{id}",
    tag = "clients",
    security(("bearer" = ["admin:clients:write"])),
    params(
        ("id" = String, Path, description = "The client_id"),
        ("If-Match" = String, Header, description = "The ETag of the version read"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's own token was issued to this client", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The client changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn delete_client(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
    if_match: Result<IfMatch, ApiError>,
) -> Result<Response, ApiError> {
    let id = client_id(path)?;
    let target = target(&id);
    call.require(&state, AdminScope::ClientsWrite, DELETE, target.clone())
        .await?;
    let IfMatch(expected) = checked(&state, &call, DELETE, &target, if_match).await?;
    let meta = &call.meta;
    let deleted = state
        .provider
        .admin_delete_client(
            &call.principal,
            &id,
            |version| expected.matches(version),
            meta.now,
            &meta.ctx,
        )
        .await;
    match deleted {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(err) => Err(call.failed(&state, DELETE, target, err).await),
    }
}

const ROTATE: &str = "admin.client.rotate_secret";

/// Gives a client a new secret, shown in this answer only. The replaced secret keeps
/// working for `grace_period_seconds` (0 ends it now), so the app can switch without
/// downtime. Clients without a secret (public, `private_key_jwt`) get 409. Needs `If-Match`.
#[utoipa::path(
    post,
    path = "/clients/{id}/secret",
    tag = "clients",
    security(("bearer" = ["admin:clients:write"])),
    request_body = SecretRotationRequest,
    params(
        ("id" = String, Path, description = "The client_id"),
        ("If-Match" = String, Header, description = "The ETag of the version read"),
    ),
    responses(
        (status = 200, description = "The new secret, shown this once", body = ClientWithSecret,
         headers(("ETag" = String, description = "The client's new version"))),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing, or the client holds admin scopes the caller does not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client has no secret", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The client changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn rotate_secret(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
    if_match: Result<IfMatch, ApiError>,
    body: Result<AdminJson<SecretRotationRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let id = client_id(path)?;
    let target = target(&id);
    call.require(&state, AdminScope::ClientsWrite, ROTATE, target.clone())
        .await?;
    let IfMatch(expected) = checked(&state, &call, ROTATE, &target, if_match).await?;
    let body = checked(&state, &call, ROTATE, &target, body).await?;
    let meta = &call.meta;
    let rotated = state
        .provider
        .admin_rotate_client_secret(
            &call.principal,
            &id,
            |version| expected.matches(version),
            &body.value,
            meta.now,
            &meta.ctx,
        )
        .await;
    match rotated {
        Ok(shown) => {
            let mut response = tagged(StatusCode::OK, &shown, shown.client.version);
            no_store(&mut response);
            Ok(response)
        }
        Err(err) => Err(call.failed(&state, ROTATE, target, err).await),
    }
}
