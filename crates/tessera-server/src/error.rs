//! Every error response Tessera sends is built here, from one of three shapes:
//!
//! - a JSON error for the token endpoint (RFC 6749 §5.2); 429 with `Retry-After` when the
//!   throttle refused it,
//! - a bearer-token challenge for protected resources (RFC 6750 §3),
//! - an HTML error page, for what must never be redirected (RFC 6749 §4.1.2.1),
//! - the same JSON shape as the token endpoint's, for the hosted pages' own script.
//!
//! Server faults are logged with their cause chain on the request's span and answered with
//! `server_error` and no detail: library and database text never reaches a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::ProviderError;
use tessera_protocol::{ErrorCode, OAuthError};

use crate::pages;

/// An error answered in the token endpoint's JSON shape.
pub(crate) struct TokenError(pub OAuthError);

/// An error answered with a `WWW-Authenticate: Bearer` challenge.
pub(crate) struct BearerError(pub Option<OAuthError>);

/// An error answered as JSON to a hosted page's script (the WebAuthn options requests).
pub(crate) struct ScriptError(pub OAuthError);

/// An error shown to the person as a page.
pub(crate) struct ErrorPage {
    pub error: OAuthError,
    pub request_id: String,
}

/// A failure of the server itself.
pub(crate) struct ServerFault {
    pub cause: ProviderError,
    /// Whether the client expects a page rather than JSON.
    pub page: bool,
    pub request_id: String,
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        // RFC 6749 §5.2: invalid_client may answer 401; Tessera always does.
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope | ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Quotes a value for an auth-param (RFC 9110 §11.2), dropping what cannot be quoted.
fn quoted(value: &str) -> String {
    value
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c))
        .collect()
}

pub(crate) fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Sets 429 and `Retry-After` on the answer to a request refused because it came too soon
/// (RFC 6585 §4; RFC 9110 §10.2.3, in seconds). Tessera's throttle refuses so.
pub(crate) fn too_many_requests(response: &mut Response, retry_after: u64) {
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.code);
        let mut response = (status, Json(self.0.response())).into_response();
        no_store(&mut response);
        // A throttled client is refused without its credentials being looked at: no
        // challenge, only when to come back.
        if let Some(seconds) = self.0.retry_after {
            too_many_requests(&mut response, seconds);
            return response;
        }
        if self.0.code == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: a 401 must name the scheme the client may use.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tessera\""),
            );
        }
        response
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        // RFC 6750 §3.1: a request without credentials gets a bare challenge.
        let Some(error) = self.0 else {
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera\""),
            );
            return response;
        };
        let challenge = format!(
            "Bearer realm=\"tessera\", error=\"{}\", error_description=\"{}\"",
            error.code,
            quoted(&error.description)
        );
        let mut response = (status_of(error.code), Json(error.response())).into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        no_store(&mut response);
        response
    }
}

impl IntoResponse for ScriptError {
    fn into_response(self) -> Response {
        let mut response = (status_of(self.0.code), Json(self.0.response())).into_response();
        no_store(&mut response);
        response
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let status = match status_of(self.error.code) {
            StatusCode::UNAUTHORIZED => StatusCode::BAD_REQUEST,
            other => other,
        };
        (status, pages::error(&self.error, &self.request_id)).into_response()
    }
}

impl IntoResponse for ServerFault {
    fn into_response(self) -> Response {
        let chain = error_chain(&self.cause);
        tracing::error!(request_id = %self.request_id, error = %chain, "request failed");
        let error = OAuthError::server_error();
        if self.page {
            ErrorPage {
                error,
                request_id: self.request_id,
            }
            .into_response()
        } else {
            let mut response =
                (StatusCode::INTERNAL_SERVER_ERROR, Json(error.response())).into_response();
            no_store(&mut response);
            response
        }
    }
}

/// "outer: inner: innermost", for the operator's log.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
