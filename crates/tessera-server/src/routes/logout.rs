//! The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2: GET and POST).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use tessera_core::logout::LogoutNext;
use tessera_protocol::params::Params;

use super::authorize::see_other;
use super::{read_form, refuse, Answer, Meta};
use crate::cookies::CookieName;
use crate::error::{no_store, ErrorPage, ServerFault};
use crate::{pages, AppState};
use tessera_core::refusal::reason;

pub(crate) async fn end_session_get(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => end_session(&state, meta, &headers, params, None).await,
        Err(error) => {
            let reason = reason::MALFORMED_QUERY;
            refuse(&state, &meta, "logout", reason, error, Answer::Page).await
        }
    }
}

/// A relying party's POST, or the person's answer to the confirmation page, which alone
/// carries the CSRF token.
pub(crate) async fn end_session_post(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut params = match read_form(&state, &meta, "logout", Answer::Page, &headers, body).await {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    let csrf = params.take("csrf");
    end_session(&state, meta, &headers, params, csrf.as_deref()).await
}

async fn end_session(
    state: &AppState,
    meta: Meta,
    headers: &HeaderMap,
    params: Params,
    csrf: Option<&str>,
) -> Response {
    let session_id = state.cookies.get(headers, CookieName::Session);
    let result = state
        .provider
        .end_session(&params, session_id, csrf, meta.now, &meta.ctx)
        .await;
    let mut response = match result {
        Ok(LogoutNext::Confirm(view)) => {
            let mut response = pages::logout(&view);
            no_store(&mut response);
            return response;
        }
        Ok(LogoutNext::Redirect(url)) => see_other(&url),
        Ok(LogoutNext::SignedOut) => pages::signed_out(),
        Ok(LogoutNext::ErrorPage(error)) => {
            return ErrorPage {
                error,
                request_id: meta.request_id,
            }
            .into_response()
        }
        Err(cause) => {
            return ServerFault {
                cause,
                page: true,
                request_id: meta.request_id,
            }
            .into_response()
        }
    };
    // The session is over: the browser forgets its handle too.
    response
        .headers_mut()
        .append(header::SET_COOKIE, state.cookies.clear(CookieName::Session));
    response
}
