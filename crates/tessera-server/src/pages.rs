//! The hosted pages, rendered with askama from `templates/`.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tessera_core::interaction::{ConsentView, LoginView};
use tessera_core::logout::LogoutView;
use tessera_core::password_change::PasswordChangeView;
use tessera_core::second_factor::{EnrolView, FactorView};
use tessera_protocol::OAuthError;

use crate::error::too_many_requests;
use crate::middleware::CSP_WITH_SCRIPT;

mod account;
mod dates;

pub(crate) use account::account;

/// Every page lives one level below the issuer (`/authorize`, `/login`, `/consent`,
/// `/resume`, `/account`), so relative links resolve under the issuer's path wherever it is
/// mounted.
const STYLESHEET: &str = "static/tessera.css";
/// The script of the pages that offer passkeys, relative like the stylesheet.
const SCRIPT: &str = "static/webauthn.js";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    stylesheet: &'a str,
    action: &'a str,
    client_name: &'a str,
    csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    passkey: Passkey<'a>,
}

/// The passkey part of a page: shown only when offered, and then only by the script.
struct Passkey<'a> {
    offered: bool,
    script: &'a str,
    /// Where the script asks for the ceremony's options.
    options: &'a str,
    /// Where the script posts the credential.
    action: &'a str,
    error: Option<&'a str>,
}

impl<'a> Passkey<'a> {
    fn new(offered: bool, path: &'a str, options: &'a str, error: Option<&'a str>) -> Self {
        Self {
            offered,
            script: SCRIPT,
            options,
            action: path,
            error,
        }
    }
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    stylesheet: &'a str,
    action: &'a str,
    client_name: &'a str,
    username: &'a str,
    scopes: Vec<&'static str>,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "factor.html")]
struct FactorPage<'a> {
    stylesheet: &'a str,
    action: &'a str,
    client_name: &'a str,
    csrf: &'a str,
    error: Option<&'a str>,
    passkey: Passkey<'a>,
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage<'a> {
    stylesheet: &'a str,
    action: &'a str,
    client_name: &'a str,
    required: bool,
    account: &'a str,
    csrf: &'a str,
    otpauth_uri: &'a str,
    qr_svg: &'a str,
    error: Option<&'a str>,
    passkey: Passkey<'a>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage<'a> {
    stylesheet: &'a str,
    codes: Vec<&'a str>,
    continue_to: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    stylesheet: &'a str,
    code: &'a str,
    description: &'a str,
    request_id: &'a str,
}

/// Renders a page that offers passkeys when `offered`: its CSP then lets it run our script
/// and call our origin (see [`CSP_WITH_SCRIPT`]); any other page runs nothing.
fn render_offering(template: &impl Template, offered: bool) -> Response {
    let mut response = render(template);
    if offered {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP_WITH_SCRIPT),
        );
    }
    response
}

/// A page shown again because the throttle refused the attempt unchecked: 429 and
/// `Retry-After`, so that a script driving the form learns when to come back; the page
/// itself says the same in words.
fn throttled(mut response: Response, retry_after: Option<i64>) -> Response {
    if let Some(seconds) = retry_after {
        too_many_requests(&mut response, u64::try_from(seconds).unwrap_or(1));
    }
    response
}

/// Renders a template, or a bare 500 if rendering itself fails (it cannot, for these
/// templates, short of running out of memory).
fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template rendering failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(crate) fn login(view: &LoginView) -> Response {
    let passkey = Passkey::new(
        view.passkey,
        "passkey-login",
        "passkey-login/options",
        view.passkey_error,
    );
    let page = LoginPage {
        stylesheet: STYLESHEET,
        action: "login",
        client_name: &view.client_name,
        csrf: &view.csrf,
        username: &view.username,
        error: view.error.as_deref(),
        passkey,
    };
    throttled(render_offering(&page, view.passkey), view.retry_after)
}

pub(crate) fn factor(view: &FactorView) -> Response {
    let passkey = Passkey::new(
        view.passkey,
        "passkey-factor",
        "passkey-factor/options",
        view.passkey_error,
    );
    let page = FactorPage {
        stylesheet: STYLESHEET,
        action: "factor",
        client_name: &view.client_name,
        csrf: &view.csrf,
        error: view.error.as_deref(),
        passkey,
    };
    throttled(render_offering(&page, view.passkey), view.retry_after)
}

pub(crate) fn enrol(view: &EnrolView) -> Response {
    let passkey = Passkey::new(
        view.passkey,
        "passkey-enrol",
        "passkey-enrol/options",
        view.passkey_error,
    );
    let page = EnrolPage {
        stylesheet: STYLESHEET,
        action: "factor",
        client_name: &view.client_name,
        required: view.required,
        account: &view.account,
        csrf: &view.csrf,
        otpauth_uri: &view.otpauth_uri,
        qr_svg: &view.qr_svg,
        error: view.error.as_deref(),
        passkey,
    };
    throttled(render_offering(&page, view.passkey), view.retry_after)
}

#[derive(Template)]
#[template(path = "new_password.html")]
struct NewPasswordPage<'a> {
    stylesheet: &'a str,
    action: &'a str,
    csrf: &'a str,
    username: &'a str,
    password_min_length: usize,
    new_error: Option<&'a str>,
    confirm_error: Option<&'a str>,
}

/// The new password a person must choose at login.
pub(crate) fn new_password(view: &PasswordChangeView) -> Response {
    render(&NewPasswordPage {
        stylesheet: STYLESHEET,
        action: "new-password",
        csrf: &view.csrf,
        username: &view.username,
        password_min_length: view.password_min_length,
        new_error: view.errors.new.as_deref(),
        confirm_error: view.errors.confirm,
    })
}

/// The recovery codes, shown this once, with a link on to `continue_to`; the page is not
/// stored by the browser's cache.
pub(crate) fn recovery_codes(codes: &[&str], continue_to: &str) -> Response {
    let mut response = render(&RecoveryCodesPage {
        stylesheet: STYLESHEET,
        codes: codes.to_vec(),
        continue_to,
    });
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// What each scope means to the person, in their words.
fn describe(scope: &str) -> &'static str {
    match scope {
        "openid" => "Know who you are",
        "profile" => "See your name and username",
        "email" => "See your email address",
        _ => "Access to an additional permission",
    }
}

pub(crate) fn consent(view: &ConsentView) -> Response {
    render(&ConsentPage {
        stylesheet: STYLESHEET,
        action: "consent",
        client_name: &view.client_name,
        username: &view.username,
        scopes: view.scopes.iter().map(|s| describe(s)).collect(),
        csrf: &view.csrf,
    })
}

pub(crate) fn error(error: &OAuthError, request_id: &str) -> Response {
    render(&ErrorTemplate {
        stylesheet: STYLESHEET,
        code: error.code.as_str(),
        description: &error.description,
        request_id,
    })
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    stylesheet: &'a str,
    action: &'a str,
    csrf: &'a str,
    client_id: Option<&'a str>,
    client_name: Option<&'a str>,
    post_logout_redirect_uri: Option<&'a str>,
    state: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage<'a> {
    stylesheet: &'a str,
}

/// The logout confirmation (RP-Initiated Logout §2: the OP should ask the person).
pub(crate) fn logout(view: &LogoutView) -> Response {
    render(&LogoutPage {
        stylesheet: STYLESHEET,
        action: "logout",
        csrf: &view.csrf,
        client_id: view.client_id.as_deref(),
        client_name: view.client_name.as_deref(),
        post_logout_redirect_uri: view.post_logout_redirect_uri.as_deref(),
        state: view.state.as_deref(),
    })
}

pub(crate) fn signed_out() -> Response {
    render(&SignedOutPage {
        stylesheet: STYLESHEET,
    })
}

#[cfg(test)]
mod tests;
