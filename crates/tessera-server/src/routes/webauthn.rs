//! Passkeys and security keys on the hosted pages (W3C WebAuthn Level 2): the requests for a
//! ceremony's options, the forms that answer it, and the script that joins the two.
//!
//! Enforces: an options request carries the interaction cookie and the interaction's CSRF
//! token in the `X-CSRF-Token` header, which no other site can send without a CORS
//! preflight that these paths never grant; the answer is an ordinary form post (`csrf`,
//! `credential`) of the same page, answered as that page's own form is, so the session
//! cookie is set on a top-level navigation as after a password.
//!
//! Each finishing path is one level below the issuer, as the pages are, so that the
//! relative links of a page shown again from it still resolve.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use tessera_core::webauthn::{KeyEnrolForm, KeyForm};
use tessera_core::ProviderError;
use tessera_protocol::OAuthError;

use super::interaction::{browser, factor_response, login_response};
use super::{read_form, Answer, Meta};
use crate::error::{ScriptError, ServerFault};
use crate::AppState;

/// The header that carries the interaction's CSRF token on an options request.
const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

pub(super) fn csrf_header(headers: &HeaderMap) -> &str {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The options as JSON, or the error as JSON: only the page's script reads these.
pub(super) fn options_response(
    result: Result<Result<String, OAuthError>, ProviderError>,
    request_id: String,
) -> Response {
    match result {
        Ok(Ok(json)) => {
            let content_type = HeaderValue::from_static("application/json");
            ([(header::CONTENT_TYPE, content_type)], json).into_response()
        }
        Ok(Err(error)) => ScriptError(error).into_response(),
        Err(cause) => ServerFault {
            cause,
            page: false,
            request_id,
        }
        .into_response(),
    }
}

/// POST `/passkey-login/options`: a passwordless assertion, for the button or for autofill.
pub(crate) async fn login_options(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let browser = browser(&state, &headers);
    let result = state
        .provider
        .passkey_login_options(&browser, csrf_header(&headers), meta.now, &meta.ctx)
        .await;
    options_response(result, meta.request_id)
}

/// POST `/passkey-factor/options`: the second-factor assertion.
pub(crate) async fn factor_options(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let browser = browser(&state, &headers);
    let result = state
        .provider
        .key_factor_options(&browser, csrf_header(&headers), meta.now, &meta.ctx)
        .await;
    options_response(result, meta.request_id)
}

/// POST `/passkey-enrol/options`: a registration during a login that must enrol.
pub(crate) async fn enrol_options(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let browser = browser(&state, &headers);
    let result = state
        .provider
        .key_enrol_options(&browser, csrf_header(&headers), meta.now, &meta.ctx)
        .await;
    options_response(result, meta.request_id)
}

/// The fields of a form that answers a ceremony: `csrf`, `credential` and `name`; or, when
/// the body is not a readable form, its recorded refusal as a failure of `event_type`.
async fn ceremony_form(
    state: &AppState,
    meta: &Meta,
    event_type: &'static str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(String, String, String), Response> {
    let mut params = read_form(state, meta, event_type, Answer::Page, headers, body).await?;
    Ok((
        params.take("csrf").unwrap_or_default(),
        params.take("credential").unwrap_or_default(),
        params.take("name").unwrap_or_default(),
    ))
}

/// POST `/passkey-login`: a passwordless assertion, answered as the login form is.
pub(crate) async fn login_finish(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (csrf, credential, _) =
        match ceremony_form(&state, &meta, "login.passwordless", &headers, body).await {
            Ok(fields) => fields,
            Err(refused) => return refused,
        };
    let result = state
        .provider
        .passkey_login(
            &browser(&state, &headers),
            KeyForm { csrf, credential },
            meta.now,
            &meta.ctx,
        )
        .await;
    login_response(&state, result, meta.request_id)
}

/// POST `/passkey-factor`: the second-factor assertion, answered as the code form is.
pub(crate) async fn factor_finish(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (csrf, credential, _) =
        match ceremony_form(&state, &meta, "login.webauthn", &headers, body).await {
            Ok(fields) => fields,
            Err(refused) => return refused,
        };
    let result = state
        .provider
        .submit_key_factor(
            &browser(&state, &headers),
            KeyForm { csrf, credential },
            meta.now,
            &meta.ctx,
        )
        .await;
    factor_response(&state, result, meta.request_id)
}

/// POST `/passkey-enrol`: a registration, answered as the enrolment form is (the recovery
/// codes page on success).
pub(crate) async fn enrol_finish(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (csrf, credential, name) =
        match ceremony_form(&state, &meta, "login.webauthn", &headers, body).await {
            Ok(fields) => fields,
            Err(refused) => return refused,
        };
    let form = KeyEnrolForm {
        csrf,
        credential,
        name,
    };
    let result = state
        .provider
        .submit_key_enrolment(&browser(&state, &headers), form, meta.now, &meta.ctx)
        .await;
    factor_response(&state, result, meta.request_id)
}

/// GET `/static/webauthn.js`: the pages' one script, a file of ours (the CSP allows no
/// inline script).
pub(crate) async fn script() -> Response {
    let js = include_str!("../../../../static/webauthn.js");
    let content_type = HeaderValue::from_static("text/javascript; charset=utf-8");
    let cache = HeaderValue::from_static("public, max-age=86400");
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        js,
    )
        .into_response()
}
