//! The hosted login, new-password, second-factor and consent pages.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use tessera_core::authorize::BrowserState;
use tessera_core::interaction::{LoginForm, LoginResult};
use tessera_core::password_change::{PasswordChangeForm, PasswordChangeOutcome};
use tessera_core::second_factor::{FactorForm, FactorOutcome};

use super::authorize::{next_response, see_other};
use super::{read_form, Answer, Meta};
use crate::cookies::CookieName;
use crate::error::{ErrorPage, ServerFault};
use crate::{pages, AppState};

pub(super) fn browser<'h>(state: &AppState, headers: &'h HeaderMap) -> BrowserState<'h> {
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
    let mut params = match read_form(
        &state,
        &meta,
        "login.password",
        Answer::Page,
        &headers,
        body,
    )
    .await
    {
        Ok(params) => params,
        Err(refused) => return refused,
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
    login_response(&state, result, meta.request_id)
}

/// The answer to a login attempt, by password or by passkey.
pub(super) fn login_response(
    state: &AppState,
    result: Result<LoginResult, tessera_core::ProviderError>,
    request_id: String,
) -> Response {
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
        Ok(LoginResult::SecondFactor(_)) => {
            see_other(&state.provider.settings().issuer.endpoint(&["factor"]))
        }
        Ok(LoginResult::ChangePassword) => {
            see_other(&state.provider.settings().issuer.endpoint(&["new-password"]))
        }
        // The same page for every failure, whichever part was wrong. A 200, as for any form
        // shown again: a 401 would need an HTTP challenge, which a form login has not.
        Ok(LoginResult::Retry(view)) => pages::login(&view),
        Ok(LoginResult::ErrorPage(error)) => ErrorPage { error, request_id }.into_response(),
        Err(cause) => ServerFault {
            cause,
            page: true,
            request_id,
        }
        .into_response(),
    }
}

/// The new password an administrator requires, after the password step.
pub(crate) async fn new_password_page(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    match state
        .provider
        .password_change_page(&browser(&state, &headers), meta.now)
        .await
    {
        Ok(Ok(view)) => pages::new_password(&view),
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

pub(crate) async fn new_password_submit(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut params = match read_form(
        &state,
        &meta,
        "login.password_change",
        Answer::Page,
        &headers,
        body,
    )
    .await
    {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    let submitted = PasswordChangeForm {
        csrf: params.take("csrf").unwrap_or_default(),
        new: SecretString::from(params.take("new_password").unwrap_or_default()),
        confirm: SecretString::from(params.take("confirm_password").unwrap_or_default()),
    };
    let result = state
        .provider
        .submit_password_change(&browser(&state, &headers), submitted, meta.now, &meta.ctx)
        .await;
    match result {
        Ok(PasswordChangeOutcome::Retry(view)) => pages::new_password(&view),
        Ok(PasswordChangeOutcome::Continue(next)) => {
            login_response(&state, Ok(next), meta.request_id)
        }
        Err(cause) => login_response(&state, Err(cause), meta.request_id),
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
    let params = match read_form(&state, &meta, "consent", Answer::Page, &headers, body).await {
        Ok(params) => params,
        Err(refused) => return refused,
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

/// The second-factor step: a code form, or enrolment.
pub(crate) async fn factor_page(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let result = state
        .provider
        .factor_page(&browser(&state, &headers), meta.now)
        .await;
    factor_response(&state, result, meta.request_id)
}

pub(crate) async fn factor_submit(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut params =
        match read_form(&state, &meta, "login.totp", Answer::Page, &headers, body).await {
            Ok(params) => params,
            Err(refused) => return refused,
        };
    let submitted = FactorForm {
        csrf: params.take("csrf").unwrap_or_default(),
        code: zeroize::Zeroizing::new(params.take("code").unwrap_or_default()),
    };
    let result = state
        .provider
        .submit_factor(&browser(&state, &headers), submitted, meta.now, &meta.ctx)
        .await;
    factor_response(&state, result, meta.request_id)
}

pub(super) fn factor_response(
    state: &AppState,
    result: Result<FactorOutcome, tessera_core::ProviderError>,
    request_id: String,
) -> Response {
    match result {
        Ok(FactorOutcome::Verify(view)) => pages::factor(&view),
        Ok(FactorOutcome::Enrol(view)) => pages::enrol(&view),
        Ok(FactorOutcome::LoggedIn {
            session,
            recovery_codes,
        }) => {
            let settings = state.provider.settings();
            let mut response = if recovery_codes.is_empty() {
                see_other(&settings.issuer.endpoint(&["resume"]))
            } else {
                let shown: Vec<&str> = recovery_codes.iter().map(|c| c.expose()).collect();
                pages::recovery_codes(&shown, "resume")
            };
            let cookie =
                state
                    .cookies
                    .set(CookieName::Session, session.expose(), settings.session_ttl);
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Ok(FactorOutcome::Elsewhere(next)) => next_response(state, Ok(next), request_id),
        Err(cause) => next_response(state, Err(cause), request_id),
    }
}
