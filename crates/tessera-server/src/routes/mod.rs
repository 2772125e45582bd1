//! The routes, one module per endpoint group, and the extractors they share.

mod account;
mod authorize;
mod client_call;
mod fallback;
mod interaction;
mod introspection;
mod logout;
mod metadata;
mod revocation;
mod token;
mod userinfo;
mod webauthn;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tessera_core::discovery::paths;
use tessera_core::refusal::reason;
use tessera_core::RequestContext;
use tessera_protocol::params::Params;
use tessera_protocol::OAuthError;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::{ErrorPage, ServerFault, TokenError};
use crate::forwarded::client_address;
use crate::middleware::RequestId;
use crate::AppState;

pub(crate) fn routes(state: AppState) -> Router {
    // Endpoints a browser app calls with fetch (a public client running in the page): open
    // to every origin, without cookies, since none of them reads one.
    let cross_origin = Router::new()
        .route(paths::DISCOVERY, get(metadata::discovery))
        .route(paths::JWKS, get(metadata::jwks))
        .route(paths::TOKEN, post(token::token))
        .route(paths::REVOCATION, post(revocation::revoke))
        .route(
            paths::USERINFO,
            get(userinfo::userinfo_get).post(userinfo::userinfo_post),
        )
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::any())
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(Duration::from_secs(600)),
        );

    // Tessera's own pages, and the calls their forms and scripts make: the device cookie
    // names the browser on each of them.
    let pages = Router::new()
        .route(
            paths::AUTHORIZE,
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/resume", get(authorize::resume))
        .route(
            "/login",
            get(interaction::login_page).post(interaction::login_submit),
        )
        .route(
            "/new-password",
            get(interaction::new_password_page).post(interaction::new_password_submit),
        )
        .route(
            "/factor",
            get(interaction::factor_page).post(interaction::factor_submit),
        )
        .route("/passkey-login/options", post(webauthn::login_options))
        .route("/passkey-login", post(webauthn::login_finish))
        .route("/passkey-factor/options", post(webauthn::factor_options))
        .route("/passkey-factor", post(webauthn::factor_finish))
        .route("/passkey-enrol/options", post(webauthn::enrol_options))
        .route("/passkey-enrol", post(webauthn::enrol_finish))
        .route("/passkey-account/options", post(account::key_options))
        .route(
            "/consent",
            get(interaction::consent_page).post(interaction::consent_submit),
        )
        .route(
            "/account",
            get(account::account_page).post(account::account_submit),
        )
        .route(
            paths::END_SESSION,
            get(logout::end_session_get).post(logout::end_session_post),
        )
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::device::device_cookie,
        ));

    let issuer = state.provider.settings().issuer.as_str().to_string();
    Router::new()
        .merge(cross_origin)
        .merge(pages)
        .merge(crate::admin::routes(&issuer))
        .route("/static/tessera.css", get(metadata::stylesheet))
        .route("/static/webauthn.js", get(webauthn::script))
        .route(paths::INTROSPECTION, post(introspection::introspect))
        // A method an endpoint does not take is still an attempt on it. Set on each group
        // before its layers, so that the answer passes through them as axum's own 405 did;
        // here, for the routes above that no group holds. A group left without it would get
        // this one, outside its layers: CORS preflights to it would then be 405s.
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .with_state(state)
}

/// What every handler knows about its request: the time, read once, and the audit facts.
pub(crate) struct Meta {
    pub now: i64,
    pub ctx: RequestContext,
    pub request_id: String,
}

/// Longest user agent kept for the audit trail.
const MAX_USER_AGENT: usize = 512;

impl FromRequestParts<AppState> for Meta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        // The peer address, or the client a trusted proxy forwarded (see `forwarded`), read
        // as bytes: a byte that is not text breaks the chain only where it stands.
        let forwarded_for: Vec<&[u8]> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| value.as_bytes())
            .collect();
        let trusted = &state.provider.settings().trusted_proxies;
        let source_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| client_address(c.0.ip(), &forwarded_for, trusted).to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(MAX_USER_AGENT).collect());
        Ok(Meta {
            now: tessera_core::unix_now(),
            ctx: RequestContext {
                source_ip,
                user_agent,
                request_id: Some(request_id.clone()),
                device_id: parts
                    .extensions
                    .get::<crate::device::PageDevice>()
                    .map(|device| device.0.as_str().to_string()),
            },
            request_id,
        })
    }
}

/// How a request refused before its endpoint ran is answered.
#[derive(Clone, Copy)]
pub(crate) enum Answer {
    /// An error page, for the hosted pages' forms.
    Page,
    /// The OAuth JSON error, for the endpoints clients call.
    Client,
}

/// Records a request refused before its endpoint ran (issue 6: every failed attempt is one
/// event), then answers it.
pub(crate) async fn refuse(
    state: &AppState,
    meta: &Meta,
    event_type: &'static str,
    reason: &'static str,
    error: OAuthError,
    answer: Answer,
) -> Response {
    let request_id = meta.request_id.clone();
    let page = matches!(answer, Answer::Page);
    let recorded = state
        .provider
        .record_refusal(&meta.ctx, meta.now, event_type, reason)
        .await;
    match (recorded, answer) {
        (Err(cause), _) => ServerFault {
            cause,
            page,
            request_id,
        }
        .into_response(),
        (Ok(()), Answer::Page) => ErrorPage { error, request_id }.into_response(),
        (Ok(()), Answer::Client) => TokenError(error).into_response(),
    }
}

/// The form a request posted, or, when it is not a readable form, its recorded refusal as
/// a failure of `event_type`.
pub(crate) async fn read_form(
    state: &AppState,
    meta: &Meta,
    event_type: &'static str,
    answer: Answer,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Params, Response> {
    match form(headers, body) {
        Ok(params) => Ok(params),
        Err(error) => {
            let reason = reason::MALFORMED_BODY;
            Err(refuse(state, meta, event_type, reason, error, answer).await)
        }
    }
}

/// Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2, OIDC Core §3.1.2.1).
pub(crate) fn form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Params, OAuthError> {
    Params::parse(&form_bytes(headers, body)?)
}

/// Checks the type and size of a form body and returns its bytes, still unparsed.
pub(crate) fn form_bytes(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            OAuthError::invalid_request("the request body is too large")
        } else {
            OAuthError::invalid_request("the request body could not be read")
        }
    })
}

/// The token from `Authorization: Bearer …`. Another scheme counts as no credentials
/// (RFC 6750 §3.1: "an unsupported authentication method" gets a bare challenge); a
/// Bearer header without a token is malformed.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| OAuthError::invalid_request("malformed Authorization header"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    match token.trim() {
        "" => Err(OAuthError::invalid_request(
            "the Bearer credentials are empty",
        )),
        token => Ok(Some(token.to_string())),
    }
}
