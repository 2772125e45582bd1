//! The hosted login and consent pages.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use tessera_core::authorize::BrowserState;
use tessera_core::interaction::{LoginForm, LoginResult};

use super::authorize::{next_response, see_other};
use super::{form, Meta};
use crate::cookies::CookieName;
use crate::error::{ErrorPage, ServerFault};
use crate::{pages, AppState};

fn browser<'h>(state: &AppState, headers: &'h HeaderMap) -> BrowserState<'h> {
    BrowserState {
        session_id: state.cookies.get(headers, CookieName::Session),
        interaction_id: state.cookies.get(headers, CookieName::Interaction),
    }
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    match state
        .provider
        .login_page(&browser(&state, &headers), meta.now)
        .await
    {
        Ok(Ok(view)) => pages::login(&view),
        Ok(Err(error)) => ErrorPage {
            error,
            request_id: meta.request_id,
        }
        .into_response(),
        Err(cause) => ServerFault {
            cause,
            page: true,
            request_id: meta.request_id,
        }
        .into_response(),
    }
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut params = match form(&headers, body) {
        Ok(params) => params,
        Err(error) => {
            return ErrorPage {
                error,
                request_id: meta.request_id,
            }
            .into_response()
        }
    };
    let login = LoginForm {
        csrf: params.take("csrf").unwrap_or_default(),
        username: params.take("username").unwrap_or_default(),
        password: SecretString::from(params.take("password").unwrap_or_default()),
    };

    let result = state
        .provider
        .login(&browser(&state, &headers), login, meta.now, &meta.ctx)
        .await;
    match result {
        Ok(LoginResult::LoggedIn(session)) => {
            let issuer = &state.provider.settings().issuer;
            let ttl = state.provider.settings().session_ttl;
            let mut response = see_other(&issuer.endpoint(&["resume"]));
            let cookie = state
                .cookies
                .set(CookieName::Session, session.expose(), ttl);
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        // The same page for every failure, whichever part was wrong. A 200, as for any form
        // shown again: a 401 would need an HTTP challenge, which a form login has not.
        Ok(LoginResult::Retry(view)) => pages::login(&view),
        Ok(LoginResult::ErrorPage(error)) => ErrorPage {
            error,
            request_id: meta.request_id,
        }
        .into_response(),
        Err(cause) => ServerFault {
            cause,
            page: true,
            request_id: meta.request_id,
        }
        .into_response(),
    }
}

pub(crate) async fn consent_page(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    match state
        .provider
        .consent_page(&browser(&state, &headers), meta.now)
        .await
    {
        Ok(Ok(view)) => pages::consent(&view),
        Ok(Err(next)) => next_response(&state, Ok(next), meta.request_id),
        Err(cause) => next_response(&state, Err(cause), meta.request_id),
    }
}

pub(crate) async fn consent_submit(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let params = match form(&headers, body) {
        Ok(params) => params,
        Err(error) => {
            return ErrorPage {
                error,
                request_id: meta.request_id,
            }
            .into_response()
        }
    };
    let approved = params.get("decision") == Some("approve");
    let csrf = params.get("csrf").unwrap_or_default();
    let result = state
        .provider
        .consent(
            &browser(&state, &headers),
            csrf,
            approved,
            meta.now,
            &meta.ctx,
        )
        .await;
    next_response(&state, result, meta.request_id)
}
