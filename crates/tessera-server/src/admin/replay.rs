//! Answers to creation requests: the first one, and a stored one sent again to a retry that
//! carried the same `Idempotency-Key`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_core::admin::idempotency::{IdempotencyKey, Prior, Replay};
use tessera_protocol::admin::ProblemType;
use tessera_store::Outcome;

use super::extract::AdminCall;
use super::problem::ApiError;
use crate::AppState;

/// What an earlier request with `key` settles: its answer again (recorded as a replayed
/// `action`), a 422 when the key came with another request, or nothing (`None`: go on and
/// create).
pub(crate) async fn prior(
    state: &AppState,
    call: &AdminCall,
    key: &IdempotencyKey,
    action: &'static str,
) -> Result<Option<Response>, ApiError> {
    let prior = match state.provider.idempotent_prior(key, call.meta.now).await {
        Ok(prior) => prior,
        Err(cause) => return Err(ApiError::fault(&cause, &call.meta.request_id)),
    };
    match prior {
        Prior::None => Ok(None),
        Prior::Replay(answer) => {
            let mut event = call.event(action, Outcome::Success, json!(null));
            event.detail["replayed"] = json!(true);
            call.write(state, &event).await;
            Ok(Some(replayed(answer)))
        }
        Prior::Mismatch => {
            let mut event = call.event(action, Outcome::Failure, json!(null));
            event.detail["status"] = json!(422);
            call.write(state, &event).await;
            Err(ApiError::new(
                ProblemType::IdempotencyKeyReused,
                "this Idempotency-Key was sent with another request: use a new key",
            ))
        }
    }
}

/// `201 Created` with `body` as JSON and `Location` (RFC 9110 §15.3.2).
pub(crate) fn created(body: Vec<u8>, location: &str) -> Response {
    answer(StatusCode::CREATED, body, Some(location), None)
}

/// The stored first answer, as it was sent.
pub(crate) fn replayed(replay: Replay) -> Response {
    let status = StatusCode::from_u16(replay.status).unwrap_or(StatusCode::OK);
    answer(
        status,
        replay.body,
        replay.location.as_deref(),
        replay.etag.as_deref(),
    )
}

fn answer(
    status: StatusCode,
    body: Vec<u8>,
    location: Option<&str>,
    etag: Option<&str>,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let pairs = [(header::LOCATION, location), (header::ETAG, etag)];
    for (name, value) in pairs {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
    }
    response
}
