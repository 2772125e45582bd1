//! The account page: `GET /account` shows it (or logs in first), `POST /account` runs the
//! action its form names, `POST /passkey-account/options` starts adding a key (the page's
//! script asks, with the session's CSRF token in the `X-CSRF-Token` header). Every page is
//! one level below the issuer, so one path serves every form and relative links keep working
//! wherever the issuer is mounted.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use tessera_core::account::{AccountAction, AccountForm, AccountOutcome, PasswordChange};
use tessera_core::authorize::BrowserState;
use tessera_protocol::params::Params;
use tessera_protocol::OAuthError;

use super::authorize::see_other;
use super::webauthn::{csrf_header, options_response};
use super::{read_form, refuse, Answer, Meta};
use crate::cookies::CookieName;
use crate::error::{no_store, ErrorPage, ServerFault};
use crate::{pages, AppState};
use tessera_core::refusal::reason;

fn browser<'h>(state: &AppState, headers: &'h HeaderMap) -> BrowserState<'h> {
    BrowserState {
        session_id: state.cookies.get(headers, CookieName::Session),
        interaction_id: state.cookies.get(headers, CookieName::Interaction),
    }
}

pub(crate) async fn account_page(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    // The notice after an action and its proof; a query that does not parse shows none.
    let params = Params::parse(query.unwrap_or_default().as_bytes()).ok();
    let notice = params
        .as_ref()
        .and_then(|p| Some((p.get("done")?, p.get("proof")?)));
    let result = state
        .provider
        .account_page(&browser(&state, &headers), notice, meta.now, &meta.ctx)
        .await;
    account_response(&state, result, meta.request_id)
}

pub(crate) async fn account_submit(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let event_type = "account.request";
    let params = match read_form(&state, &meta, event_type, Answer::Page, &headers, body).await {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    let submitted = match account_form(params) {
        Ok(submitted) => submitted,
        Err(error) => {
            let reason = reason::UNKNOWN_ACTION;
            return refuse(&state, &meta, event_type, reason, error, Answer::Page).await;
        }
    };
    let result = state
        .provider
        .account_action(&browser(&state, &headers), submitted, meta.now, &meta.ctx)
        .await;
    account_response(&state, result, meta.request_id)
}

/// POST `/passkey-account/options`: a registration's options for the account page's script.
pub(crate) async fn key_options(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let browser = browser(&state, &headers);
    let result = state
        .provider
        .account_key_options(&browser, csrf_header(&headers), meta.now, &meta.ctx)
        .await;
    options_response(result, meta.request_id)
}

/// The form's `action` and its fields, as the domain's types.
fn account_form(mut params: Params) -> Result<AccountForm, OAuthError> {
    let csrf = params.take("csrf").unwrap_or_default();
    let action = params.take("action");
    let mut secret = |name| SecretString::from(params.take(name).unwrap_or_default());
    let action = match action.as_deref() {
        Some("change_password") => AccountAction::ChangePassword(PasswordChange {
            current: secret("current_password"),
            new: secret("new_password"),
            confirm: secret("confirm_password"),
        }),
        Some("add_totp") => AccountAction::AddTotp,
        Some("remove_totp") => AccountAction::RemoveTotp,
        Some("regenerate_recovery_codes") => AccountAction::RegenerateRecoveryCodes,
        Some("add_key") => AccountAction::AddKey {
            credential: params.take("credential").unwrap_or_default(),
            name: params.take("name").unwrap_or_default(),
        },
        Some("rename_key") => AccountAction::RenameKey {
            id: params.take("key").unwrap_or_default(),
            name: params.take("name").unwrap_or_default(),
        },
        Some("remove_key") => AccountAction::RemoveKey {
            id: params.take("key").unwrap_or_default(),
        },
        Some("end_device") => AccountAction::EndDevice {
            id: params.take("device").unwrap_or_default(),
        },
        Some("end_session") => AccountAction::EndSession {
            sid: params.take("sid").unwrap_or_default(),
        },
        _ => {
            return Err(OAuthError::invalid_request(
                "The form names no known action.",
            ))
        }
    };
    Ok(AccountForm { csrf, action })
}

fn account_response(
    state: &AppState,
    result: Result<AccountOutcome, tessera_core::ProviderError>,
    request_id: String,
) -> Response {
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(cause) => {
            return ServerFault {
                cause,
                page: true,
                request_id,
            }
            .into_response()
        }
    };
    let settings = state.provider.settings();
    let issuer = &settings.issuer;
    let interaction = |path: &str, id: tessera_core::secret::RandomSecret| {
        let mut response = see_other(&issuer.endpoint(&[path]));
        let cookie = state.cookies.set(
            CookieName::Interaction,
            id.expose(),
            settings.interaction_ttl,
        );
        response.headers_mut().append(header::SET_COOKIE, cookie);
        response
    };
    match outcome {
        AccountOutcome::Page { view, refused } => pages::account(&view, refused),
        AccountOutcome::Login(id) => interaction("login", id),
        AccountOutcome::Enrol(id) => interaction("factor", id),
        AccountOutcome::RecoveryCodes(codes) => {
            let shown: Vec<&str> = codes.iter().map(|c| c.expose()).collect();
            let mut response = pages::recovery_codes(&shown, "account");
            no_store(&mut response);
            response
        }
        AccountOutcome::Done { notice, proof } => {
            let mut url = match url::Url::parse(&issuer.endpoint(&["account"])) {
                Ok(url) => url,
                Err(_) => return see_other(&issuer.endpoint(&["account"])),
            };
            url.query_pairs_mut()
                .append_pair("done", notice.as_str())
                .append_pair("proof", &proof);
            see_other(url.as_str())
        }
        AccountOutcome::SignedOut => {
            // The session is over: the browser forgets its handle too, as at logout.
            let mut response = pages::signed_out();
            response
                .headers_mut()
                .append(header::SET_COOKIE, state.cookies.clear(CookieName::Session));
            response
        }
        AccountOutcome::Reload => see_other(&issuer.endpoint(&["account"])),
        AccountOutcome::ErrorPage(error) => ErrorPage { error, request_id }.into_response(),
    }
}
