//! Answers to creation requests: the first one, and a stored one sent again to a retry that
//! carried the same `Idempotency-Key`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::admin::idempotency::Replay;

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
