//! `/admin/v1/keys`: the signing keys' public parts and state (`admin:keys:read`), and
//! rotation (`admin:keys:write`), the command line's `tessera keys rotate` over HTTP.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_core::admin::idempotency::json_body;
use tessera_core::admin::keys::ROTATE;
use tessera_protocol::admin::keys::{RotateKeys, RotatedKeys, SigningKey, SigningKeyList};
use tessera_protocol::admin::{AdminScope, Problem};
use tessera_store::Outcome;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminCall, AdminJson};
use super::problem::ApiError;
use super::replay;
use crate::AppState;

const LIST: &str = "admin.key.list";
const READ: &str = "admin.key.read";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read))
        .routes(routes!(rotate))
}

/// Every stored key with its state now: upcoming keys already in JWKS, the active one per
/// algorithm, retired ones still verifying, removed ones awaiting deletion.
#[utoipa::path(
    get,
    path = "/keys",
    tag = "keys",
    security(("bearer" = ["admin:keys:read"])),
    responses(
        (status = 200, description = "Every stored key", body = SigningKeyList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:keys:read", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(State(state): State<AppState>, call: AdminCall) -> Result<Response, ApiError> {
    call.require(&state, AdminScope::KeysRead, LIST, json!(null))
        .await?;
    let items = match state.provider.admin_keys(call.meta.now).await {
        Ok(items) => items,
        Err(err) => return Err(call.failed(&state, LIST, json!(null), err).await),
    };
    call.write(&state, &call.event(LIST, Outcome::Success, json!(null)))
        .await;
    let list = SigningKeyList {
        items,
        next_cursor: None,
    };
    Ok(Json(list).into_response())
}

/// One key, by its `kid`.
#[utoipa::path(
    get,
    path = "/keys/{kid}",
    tag = "keys",
    security(("bearer" = ["admin:keys:read"])),
    params(("kid" = String, Path, description = "The key id")),
    responses(
        (status = 200, description = "The key", body = SigningKey),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:keys:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No key has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn read(
    State(state): State<AppState>,
    call: AdminCall,
    kid: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    // A path that does not decode to text names no key.
    let kid = kid.map(|Path(kid)| kid).unwrap_or_default();
    let target = json!(kid);
    call.require(&state, AdminScope::KeysRead, READ, target.clone())
        .await?;
    match state.provider.admin_key(&kid, call.meta.now).await {
        Ok(key) => {
            call.write(&state, &call.event(READ, Outcome::Success, target))
                .await;
            Ok(Json(key).into_response())
        }
        Err(err) => Err(call.failed(&state, READ, target, err).await),
    }
}

/// Creates a new key for `alg`, or for each algorithm when it is absent. It is published
/// now and signs after the server's `key_publish_ahead` (OIDC Core §10.1.1), when the keys
/// it replaces retire; with `danger_activate_immediately` it signs at once. This instance
/// uses the new keys at once, other instances after their next key reload. An
/// `Idempotency-Key` makes a retry return the first answer instead of rotating again.
#[utoipa::path(
    post,
    path = "/keys/rotate",
    tag = "keys",
    security(("bearer" = ["admin:keys:write"])),
    request_body = RotateKeys,
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
            description = "1 to 255 visible ASCII characters; a retry with the same key and body gets the first answer"),
    ),
    responses(
        (status = 201, description = "The new keys", body = RotatedKeys,
            headers(("Location" = String, description = "The new key, or the key list when several were made"))),
        (status = 400, description = "The body or a header is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:keys:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another rotation of the algorithm happened at the same time", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn rotate(
    State(state): State<AppState>,
    call: AdminCall,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<AdminJson<RotateKeys>, ApiError>,
) -> Result<Response, ApiError> {
    call.require(&state, AdminScope::KeysWrite, ROTATE, json!(null))
        .await?;
    let refused = |error: ApiError| async {
        let mut event = call.event(ROTATE, Outcome::Failure, json!(null));
        event.detail["status"] = json!(error.kind_status());
        call.write(&state, &event).await;
        error
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => return Err(refused(error).await),
    };
    let key = match call.idempotency_key(&headers, &method, uri.path(), &body.raw) {
        Ok(key) => key,
        Err(error) => return Err(refused(error).await),
    };

    if let Some(key) = &key {
        if let Some(answer) = replay::prior(&state, &call, key, ROTATE).await? {
            return Ok(answer);
        }
    }

    let rotation = state
        .provider
        .admin_rotate_keys(
            &call.principal,
            &body.value,
            key.as_ref(),
            call.meta.now,
            &call.meta.ctx,
        )
        .await;
    match rotation {
        Ok(rotation) => {
            let body = json_body(&rotation.keys)
                .map_err(|err| ApiError::from_admin(err, &call.meta.request_id))?;
            Ok(replay::created(body, &rotation.location))
        }
        Err(err) => Err(call.failed(&state, ROTATE, json!(null), err).await),
    }
}
