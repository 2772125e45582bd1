//! The introspection endpoint (RFC 7662 §2): POST, form body, JSON answer, never cached;
//! a caller that fails client authentication gets 401 (§2.3).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{form, Meta};
use crate::error::{no_store, ServerFault, TokenError};
use crate::AppState;

pub(crate) async fn introspect(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let params = match form(&headers, body) {
        Ok(params) => params,
        Err(error) => return TokenError(error).into_response(),
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());

    match state
        .provider
        .introspect(authorization, params, meta.now, &meta.ctx)
        .await
    {
        Ok(Ok(answer)) => {
            let mut response = Json(answer).into_response();
            no_store(&mut response);
            response
        }
        Ok(Err(error)) => TokenError(error).into_response(),
        Err(cause) => ServerFault {
            cause,
            page: false,
            request_id: meta.request_id,
        }
        .into_response(),
    }
}
