//! Discovery (OIDC Discovery 1.0 §4), JWKS (RFC 7517 §5) and the stylesheet: bytes
//! prepared once and served with caching headers.
//!
//! Discovery and JWKS carry a strong `ETag` (RFC 9110 §8.8.3) and a short `max-age`
//! (RFC 9111 §5.2.2.1); a request whose `If-None-Match` names the current tag gets 304 with
//! no body (RFC 9110 §13.1.2, §15.4.5). The JWKS tag changes whenever a key is added or
//! removed, so a relying party that revalidates sees a rotation at once.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::published::Published;

use crate::AppState;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const JWK_SET: HeaderValue = HeaderValue::from_static("application/jwk-set+json");

pub(crate) async fn discovery(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let document = state.provider.discovery();
    conditional(&document, &headers, JSON, &state.metadata_cache)
}

pub(crate) async fn jwks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let document = state.provider.jwks();
    conditional(&document, &headers, JWK_SET, &state.metadata_cache)
}

/// 304 when the client's copy is current, else the document; both with the validator and
/// caching headers, which RFC 9110 §15.4.5 requires on a 304 too.
fn conditional(
    document: &Published,
    headers: &HeaderMap,
    content_type: HeaderValue,
    cache: &HeaderValue,
) -> Response {
    let Ok(etag) = HeaderValue::from_str(document.etag()) else {
        // Unreachable: the tag is base64url between quotes. Serve without a validator.
        return ([(header::CACHE_CONTROL, cache.clone())], document.body()).into_response();
    };
    let validators = [(header::ETAG, etag), (header::CACHE_CONTROL, cache.clone())];

    if if_none_match(headers, document.etag()) {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }

    let content = [(header::CONTENT_TYPE, content_type)];
    (content, validators, document.body()).into_response()
}

/// RFC 9110 §13.1.2: true when `If-None-Match` is `*` or lists `etag`, compared weakly
/// (a `W/` prefix is ignored).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
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

#[cfg(test)]
mod tests;
