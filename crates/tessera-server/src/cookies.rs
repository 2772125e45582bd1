//! The browser cookies: a session and an interaction, each an opaque random handle, and the
//! long-lived signed device cookie (see `tessera_core::device`).
//!
//! On an https issuer both carry the `__Host-` prefix, `Secure`, `HttpOnly`,
//! `SameSite=Lax` and `Path=/`, so no other host or path can set or read them
//! (RFC 6265bis §4.1.3.2). A plain-http issuer is allowed only on loopback, and there the
//! prefix and `Secure` are dropped, since user agents may refuse them without TLS.

use axum::http::{HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};
use tessera_protocol::types::Issuer;

#[derive(Clone, Copy, Debug)]
pub struct CookiePolicy {
    secure: bool,
}

#[derive(Clone, Copy, Debug)]
pub enum CookieName {
    Session,
    Interaction,
    Device,
}

impl CookiePolicy {
    pub fn for_issuer(issuer: &Issuer) -> Self {
        Self {
            secure: issuer.is_https(),
        }
    }

    pub fn name(&self, which: CookieName) -> &'static str {
        match (which, self.secure) {
            (CookieName::Session, true) => "__Host-tessera-session",
            (CookieName::Session, false) => "tessera-session",
            (CookieName::Interaction, true) => "__Host-tessera-interaction",
            (CookieName::Interaction, false) => "tessera-interaction",
            (CookieName::Device, true) => "__Host-tessera-device",
            (CookieName::Device, false) => "tessera-device",
        }
    }

    /// A `Set-Cookie` value carrying `value` for `max_age` seconds.
    pub(crate) fn set(&self, which: CookieName, value: &str, max_age: i64) -> HeaderValue {
        let cookie = Cookie::build((self.name(which), value.to_string()))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build();
        // Values are base64url and names are constants, so the header is always valid.
        HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
    }

    /// A `Set-Cookie` value that removes the cookie.
    pub(crate) fn clear(&self, which: CookieName) -> HeaderValue {
        self.set(which, "", 0)
    }

    /// The value of a cookie sent by the browser.
    pub(crate) fn get<'h>(&self, headers: &'h HeaderMap, which: CookieName) -> Option<&'h str> {
        let name = self.name(which);
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, v)| *n == name && !v.is_empty())
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests;
