//! The authorization endpoint (RFC 6749 §3.1: GET must be supported, POST may be; OIDC
//! Core §3.1.2.1 requires both) and the resumption of an interaction after login.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::authorize::{BrowserState, Next};
use tessera_core::refusal::reason;

use super::{form_bytes, refuse, Answer, Meta};
use crate::cookies::CookieName;
use crate::error::{ErrorPage, ServerFault};
use crate::AppState;

pub(crate) async fn authorize_get(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let raw = query.unwrap_or_default();
    authorize(&state, meta, &headers, raw.as_bytes()).await
}

pub(crate) async fn authorize_post(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match form_bytes(&headers, body) {
        Ok(raw) => authorize(&state, meta, &headers, &raw).await,
        Err(error) => {
            let (event_type, reason) = ("authorization.request", reason::MALFORMED_BODY);
            refuse(&state, &meta, event_type, reason, error, Answer::Page).await
        }
    }
}

async fn authorize(state: &AppState, meta: Meta, headers: &HeaderMap, raw: &[u8]) -> Response {
    let browser = BrowserState {
        session_id: state.cookies.get(headers, CookieName::Session),
        interaction_id: None,
    };
    let result = state
        .provider
        .authorize(raw, &browser, meta.now, &meta.ctx)
        .await;
    next_response(state, result, meta.request_id)
}

pub(crate) async fn resume(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let browser = BrowserState {
        session_id: state.cookies.get(&headers, CookieName::Session),
        interaction_id: state.cookies.get(&headers, CookieName::Interaction),
    };
    let result = state.provider.resume(&browser, meta.now, &meta.ctx).await;
    next_response(&state, result, meta.request_id)
}

/// Maps where the flow goes next to a response.
pub(crate) fn next_response(
    state: &AppState,
    result: Result<Next, tessera_core::ProviderError>,
    request_id: String,
) -> Response {
    let next = match result {
        Ok(next) => next,
        Err(cause) => {
            return ServerFault {
                cause,
                page: true,
                request_id,
            }
            .into_response()
        }
    };
    let ttl = state.provider.settings().interaction_ttl;
    let issuer = &state.provider.settings().issuer;
    let (location, cookie) = match next {
        Next::ErrorPage(error) => return ErrorPage { error, request_id }.into_response(),
        Next::Redirect(url) => {
            let mut response = see_other(&url);
            // The interaction is over: its cookie is no longer needed.
            response.headers_mut().append(
                header::SET_COOKIE,
                state.cookies.clear(CookieName::Interaction),
            );
            return response;
        }
        Next::Account => {
            let mut response = see_other(&issuer.endpoint(&["account"]));
            // The account login is over: its interaction cookie is no longer needed.
            response.headers_mut().append(
                header::SET_COOKIE,
                state.cookies.clear(CookieName::Interaction),
            );
            return response;
        }
        Next::Login(cookie) => (issuer.endpoint(&["login"]), cookie),
        Next::Consent(cookie) => (issuer.endpoint(&["consent"]), cookie),
        Next::SecondFactor(cookie) => (issuer.endpoint(&["factor"]), cookie),
    };
    let mut response = see_other(&location);
    if let Some(id) = cookie {
        response.headers_mut().append(
            header::SET_COOKIE,
            state.cookies.set(CookieName::Interaction, id.expose(), ttl),
        );
    }
    response
}

/// 303 See Other: the browser follows with GET whatever the original method was.
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}
