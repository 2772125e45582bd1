//! Discovery (OIDC Discovery 1.0 §4), JWKS (RFC 7517 §5) and the stylesheet: bytes
//! prepared once and served with caching headers.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::AppState;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
/// Relying parties may cache metadata briefly; key rotation publishes new keys ahead of use.
const CACHE_METADATA: HeaderValue = HeaderValue::from_static("public, max-age=300");

pub(crate) async fn discovery(State(state): State<AppState>) -> Response {
    let body = state.discovery.clone();
    (
        [
            (header::CONTENT_TYPE, JSON),
            (header::CACHE_CONTROL, CACHE_METADATA),
        ],
        body,
    )
        .into_response()
}

pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    let body = state.jwks.clone();
    let content_type = HeaderValue::from_static("application/jwk-set+json");
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, CACHE_METADATA),
        ],
        body,
    )
        .into_response()
}

pub(crate) async fn stylesheet() -> Response {
    let css = include_str!("../../../../static/tessera.css");
    let content_type = HeaderValue::from_static("text/css; charset=utf-8");
    let cache = HeaderValue::from_static("public, max-age=86400");
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        css,
    )
        .into_response()
}
