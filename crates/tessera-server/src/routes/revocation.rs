//! The revocation endpoint (RFC 7009 §2): POST, form body, 200 with no content on success,
//! errors in the token endpoint's JSON shape (§2.2.1).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{client_call, Meta};
use crate::AppState;

pub(crate) async fn revoke(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (params, authorization) =
        match client_call::read(&state, &meta, "token.revocation", &headers, body).await {
            Ok(read) => read,
            Err(refused) => return refused,
        };
    let result = state
        .provider
        .revoke(authorization, params, meta.now, &meta.ctx)
        .await;
    client_call::answer(result.map(|r| r.map(|()| StatusCode::OK)), meta.request_id)
}
