//! The introspection endpoint (RFC 7662 §2): POST, form body, JSON answer, never cached;
//! a caller that fails client authentication gets 401 (§2.3).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;

use super::{client_call, Meta};
use crate::AppState;

pub(crate) async fn introspect(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (params, authorization) =
        match client_call::read(&state, &meta, "token.introspection", &headers, body).await {
            Ok(read) => read,
            Err(refused) => return refused,
        };
    let result = state
        .provider
        .introspect(authorization, params, meta.now, &meta.ctx)
        .await;
    client_call::answer(result.map(|r| r.map(Json)), meta.request_id)
}
