//! The browser cookies: a session and an interaction, each an opaque random handle.
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
mod tests {
    use super::*;

    #[test]
    fn https_issuer_gets_host_prefixed_secure_cookies() {
        let policy = CookiePolicy::for_issuer(&Issuer::parse("https://id.example.com").unwrap());
        let header = policy.set(CookieName::Session, "abc", 60);
        let text = header.to_str().unwrap();
        assert!(text.starts_with("__Host-tessera-session=abc"), "{text}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=60"] {
            assert!(text.contains(attribute), "{attribute} missing from {text}");
        }
        assert!(
            !text.contains("Domain"),
            "__Host- cookies must not carry Domain: {text}"
        );
    }

    #[test]
    fn loopback_http_issuer_drops_only_prefix_and_secure() {
        let policy = CookiePolicy::for_issuer(&Issuer::parse("http://127.0.0.1:8080").unwrap());
        let text = policy
            .set(CookieName::Interaction, "xyz", 600)
            .to_str()
            .unwrap()
            .to_string();
        assert!(text.starts_with("tessera-interaction=xyz"), "{text}");
        assert!(
            text.contains("HttpOnly") && text.contains("SameSite=Lax"),
            "{text}"
        );
        assert!(!text.contains("Secure"), "{text}");
    }

    #[test]
    fn reads_the_named_cookie_only() {
        let policy = CookiePolicy::for_issuer(&Issuer::parse("https://id.example.com").unwrap());
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("tessera-session=planted; __Host-tessera-session=real"),
        );
        assert_eq!(policy.get(&headers, CookieName::Session), Some("real"));
        assert_eq!(policy.get(&headers, CookieName::Interaction), None);
    }
}
