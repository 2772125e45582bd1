//! The userinfo endpoint (OIDC Core §5.3), a protected resource (RFC 6750).
//!
//! The token arrives in the `Authorization` header, or for POST in the form body
//! (RFC 6750 §2.1, §2.2); a request that uses both is refused (§2). Tokens in the query
//! string (§2.3) are not accepted: they end up in logs and browser history.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_protocol::OAuthError;

use super::{bearer, form, Meta};
use crate::error::{no_store, BearerError, ServerFault};
use crate::AppState;

pub(crate) async fn userinfo_get(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    match bearer(&headers) {
        Ok(token) => answer(&state, meta, token).await,
        Err(error) => BearerError(Some(error)).into_response(),
    }
}

pub(crate) async fn userinfo_post(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let header_token = match bearer(&headers) {
        Ok(token) => token,
        Err(error) => return BearerError(Some(error)).into_response(),
    };
    // A POST without a body is fine when the header carries the token.
    let empty = body.as_ref().is_ok_and(|b| b.is_empty());
    let body_token = if empty {
        None
    } else {
        match form(&headers, body) {
            Ok(mut params) => params.take("access_token"),
            Err(error) => return BearerError(Some(error)).into_response(),
        }
    };
    let token = match (header_token, body_token) {
        (Some(_), Some(_)) => {
            let error = OAuthError::invalid_request("send the access token only once");
            return BearerError(Some(error)).into_response();
        }
        (header, body) => header.or(body),
    };
    answer(&state, meta, token).await
}

async fn answer(state: &AppState, meta: Meta, token: Option<String>) -> Response {
    let Some(token) = token else {
        return BearerError(None).into_response();
    };
    match state.provider.userinfo(&token, meta.now).await {
        Ok(Ok(claims)) => {
            let mut response = Json(claims).into_response();
            no_store(&mut response);
            response
        }
        Ok(Err(error)) => BearerError(Some(error)).into_response(),
        Err(cause) => ServerFault {
            cause,
            page: false,
            request_id: meta.request_id,
        }
        .into_response(),
    }
}
