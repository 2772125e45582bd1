//! What the endpoints a client calls directly (token, revocation, introspection) share: a
//! form body and an optional `Authorization` header in; JSON out, never cached (RFC 6749
//! §5.1); errors in the token endpoint's JSON shape (RFC 6749 §5.2), which RFC 7009 §2.2.1
//! and RFC 7662 §2.3 reuse.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use tessera_core::ProviderError;
use tessera_protocol::params::Params;
use tessera_protocol::OAuthError;

use super::{read_form, Answer, Meta};
use crate::error::{no_store, ServerFault, TokenError};
use crate::AppState;

/// The parsed form and the raw `Authorization` header, or the error refusing the body.
pub(crate) async fn read<'h>(
    state: &AppState,
    meta: &Meta,
    event_type: &'static str,
    headers: &'h HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Params, Option<&'h str>), Response> {
    let params = read_form(state, meta, event_type, Answer::Client, headers, body).await?;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    Ok((params, authorization))
}

/// Maps the domain's answer: the success response, an OAuth error, or a server fault.
pub(crate) fn answer<T: IntoResponse>(
    result: Result<Result<T, OAuthError>, ProviderError>,
    request_id: String,
) -> Response {
    match result {
        Ok(Ok(success)) => {
            let mut response = success.into_response();
            no_store(&mut response);
            response
        }
        Ok(Err(error)) => TokenError(error).into_response(),
        Err(cause) => ServerFault {
            cause,
            page: false,
            request_id,
        }
        .into_response(),
    }
}
