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
use tessera_core::userinfo::Presented;
use tessera_protocol::OAuthError;

use super::{bearer, form, Meta};
use crate::error::{no_store, BearerError, ServerFault};
use crate::AppState;

pub(crate) async fn userinfo_get(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let presented = match bearer(&headers) {
        Ok(token) => presented(token),
        Err(error) => Presented::Malformed(error),
    };
    answer(&state, meta, presented).await
}

pub(crate) async fn userinfo_post(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let presented = match from_header_or_body(&headers, body) {
        Ok(token) => presented(token),
        Err(error) => Presented::Malformed(error),
    };
    answer(&state, meta, presented).await
}

fn presented(token: Option<String>) -> Presented {
    token.map_or(Presented::Missing, Presented::Token)
}

/// The token of a POST: in the header or in the form body, never both (RFC 6750 §2).
fn from_header_or_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<String>, OAuthError> {
    let header_token = bearer(headers)?;
    // A POST without a body is fine when the header carries the token.
    let empty = body.as_ref().is_ok_and(|b| b.is_empty());
    let body_token = if empty {
        None
    } else {
        form(headers, body)?.take("access_token")
    };
    match (header_token, body_token) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "send the access token only once",
        )),
        (header, body) => Ok(header.or(body)),
    }
}

async fn answer(state: &AppState, meta: Meta, presented: Presented) -> Response {
    match state
        .provider
        .userinfo(presented, meta.now, &meta.ctx)
        .await
    {
        Ok(Ok(claims)) => {
            let mut response = Json(claims).into_response();
            no_store(&mut response);
            response
        }
        Ok(Err(error)) => BearerError(error).into_response(),
        Err(cause) => ServerFault {
            cause,
            page: false,
            request_id: meta.request_id,
        }
        .into_response(),
    }
}
