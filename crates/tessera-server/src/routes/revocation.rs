//! The revocation endpoint (RFC 7009 §2): POST, form body, 200 with no content on success,
//! errors in the token endpoint's JSON shape (§2.2.1).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{form, Meta};
use crate::error::{no_store, ServerFault, TokenError};
use crate::AppState;

pub(crate) async fn revoke(
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
        .revoke(authorization, params, meta.now, &meta.ctx)
        .await
    {
        Ok(Ok(())) => {
            let mut response = StatusCode::OK.into_response();
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
