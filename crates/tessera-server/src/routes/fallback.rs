//! A method an endpoint does not take (RFC 9110 §15.5.6, 405 with `Allow`). The request
//! reached an endpoint, so it is an access attempt (issue 6): one failure of that endpoint's
//! event type, reason `method_not_allowed`, set on the routers once instead of in every
//! handler. The answer stays axum's own: an empty 405, with the `Allow` header its method
//! router adds.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tessera_core::discovery::paths;
use tessera_core::refusal::reason;

use super::Meta;
use crate::error::ServerFault;
use crate::AppState;

/// The audit event type of the endpoint at `path` (below the issuer), as its own handler
/// records attempts; `None` for public metadata and static files, which record nothing.
/// A new endpoint gets its arm here.
fn endpoint_event(path: &str) -> Option<&'static str> {
    let event_type = match path {
        paths::AUTHORIZE | "/resume" => "authorization.request",
        paths::TOKEN => "token.request",
        paths::REVOCATION => "token.revocation",
        paths::INTROSPECTION => "token.introspection",
        paths::USERINFO => "userinfo",
        paths::END_SESSION => "logout",
        "/login" => "login.password",
        "/new-password" => "login.password_change",
        "/factor" => "login.totp",
        "/passkey-login" | "/passkey-login/options" => "login.passwordless",
        "/passkey-factor" | "/passkey-factor/options" => "login.webauthn",
        "/passkey-enrol" | "/passkey-enrol/options" => "login.webauthn",
        "/passkey-account/options" => "factor.webauthn_register",
        "/consent" => "consent",
        "/account" => "account.request",
        _ => return None,
    };
    Some(event_type)
}

/// The method-not-allowed fallback of every endpoint outside the admin API (which has its
/// own, see `crate::admin`). `uri` is the path below the issuer: the app is nested there.
pub(crate) async fn method_not_allowed(
    State(state): State<AppState>,
    meta: Meta,
    uri: Uri,
) -> Response {
    let Some(event_type) = endpoint_event(uri.path()) else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    let recorded = state
        .provider
        .record_refusal(&meta.ctx, meta.now, event_type, reason::METHOD_NOT_ALLOWED)
        .await;
    match recorded {
        Ok(()) => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        Err(cause) => ServerFault {
            cause,
            page: false,
            request_id: meta.request_id,
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint_event;

    #[test]
    fn every_endpoint_that_records_attempts_names_its_event_type() {
        assert_eq!(endpoint_event("/token"), Some("token.request"));
        assert_eq!(endpoint_event("/userinfo"), Some("userinfo"));
        assert_eq!(endpoint_event("/logout"), Some("logout"));
        assert_eq!(
            endpoint_event("/passkey-login/options"),
            Some("login.passwordless")
        );
        assert_eq!(endpoint_event("/account"), Some("account.request"));
    }

    #[test]
    fn public_metadata_and_static_files_record_nothing() {
        assert_eq!(endpoint_event("/.well-known/openid-configuration"), None);
        assert_eq!(endpoint_event("/jwks"), None);
        assert_eq!(endpoint_event("/static/tessera.css"), None);
    }
}
