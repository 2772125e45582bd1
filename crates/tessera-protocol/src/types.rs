//! Identifiers and values named by the specifications, one type each.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::OAuthError;

/// Longest value Tessera accepts for any opaque parameter (`state`, `nonce`, `login_hint`).
/// Generous for real clients, small enough that a hostile one cannot bloat storage.
pub const MAX_PARAM_LEN: usize = 2048;

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// `client_id` (RFC 6749 §2.2).
    ClientId
);
string_newtype!(
    /// `state` (RFC 6749 §4.1.1), returned to the client untouched.
    State
);
string_newtype!(
    /// `nonce` (OIDC Core §3.1.2.1), copied into the ID token.
    Nonce
);
string_newtype!(
    /// `sub` (OIDC Core §2): stable, opaque, never reassigned.
    Subject
);
string_newtype!(
    /// `login_hint` (OIDC Core §3.1.2.1): pre-fills the username field, nothing more.
    LoginHint
);

/// Checks the length and character set of an opaque parameter.
pub fn opaque(name: &'static str, value: &str) -> Result<String, OAuthError> {
    if value.len() > MAX_PARAM_LEN {
        return Err(OAuthError::invalid_request(format!("{name} is too long")));
    }
    if value.chars().any(char::is_control) {
        return Err(OAuthError::invalid_request(format!(
            "{name} contains control characters"
        )));
    }
    Ok(value.to_string())
}

/// A redirection endpoint (RFC 6749 §3.1.2).
///
/// The exact registered string is kept, and requests are compared with it character by
/// character (RFC 9700 §4.1.1): no normalisation, no prefix or wildcard matching.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

/// Why a redirect URI cannot be registered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RedirectUriError {
    #[error("is not an absolute URI")]
    NotAbsolute,
    #[error("contains a character that a URI cannot hold unescaped (RFC 3986 §2)")]
    InvalidCharacter,
    #[error("must not carry a parameter of the authorization response in its query")]
    ResponseParameter,
    #[error("must not contain a fragment (RFC 6749 §3.1.2)")]
    Fragment,
    #[error("must use https, or http only on a loopback address (RFC 8252 §7.3)")]
    InsecureScheme,
    #[error("must not contain a wildcard")]
    Wildcard,
    #[error("a private-use scheme must contain a period (RFC 8252 §7.1)")]
    PrivateUseScheme,
    #[error("must not contain a user name or password (RFC 3986 §3.2.1)")]
    UserInfo,
    #[error(
        "must be written in normal form (a host, lowercase, no dot segments, no numeric \
         address shorthand): the browser would go to {0:?}"
    )]
    NotNormal(String),
}

/// Whether the host and path of the web URI `value` are written as `url` parsed them: the
/// host spelled out (lowercase, no numeric shorthand), and the path free of dot segments. An
/// empty path stands for `/`, as RFC 3986 §6.2.3 allows.
fn written_as_parsed(value: &str, url: &Url) -> bool {
    let Some(authority) = value.find("://").map(|at| &value[at + 3..]) else {
        return false;
    };
    let Some(host) = url.host_str().filter(|host| !host.is_empty()) else {
        return false;
    };
    let Some(rest) = authority.strip_prefix(host) else {
        return false;
    };
    let rest = match rest.strip_prefix(':') {
        Some(port) => port.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    let path = rest.split(['?', '#']).next().unwrap_or("");
    path.is_empty() || path == url.path()
}

impl RedirectUri {
    /// Parses a URI for registration, applying RFC 6749 §3.1.2 and RFC 8252 §7.
    pub fn register(value: &str) -> Result<Self, RedirectUriError> {
        // RFC 3986 §2: a URI is printable ASCII without spaces, quotes, angle brackets or
        // the like. The url crate would quietly escape or drop them, and the redirect would
        // then go to a URI other than the one registered.
        let forbidden = |b: u8| b <= b' ' || b >= 0x7f || b"\"<>\\^`{|}".contains(&b);
        if value.bytes().any(forbidden) {
            return Err(RedirectUriError::InvalidCharacter);
        }

        let url = Url::parse(value).map_err(|_| RedirectUriError::NotAbsolute)?;

        // The response adds these (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207); a registered copy
        // would make the client read two values and perhaps the wrong one.
        let taken = [
            "code",
            "state",
            "iss",
            "error",
            "error_description",
            "error_uri",
        ];
        if url
            .query_pairs()
            .any(|(name, _)| taken.contains(&name.as_ref()))
        {
            return Err(RedirectUriError::ResponseParameter);
        }

        if url.fragment().is_some() || value.contains('#') {
            return Err(RedirectUriError::Fragment);
        }

        if value.contains('*') {
            return Err(RedirectUriError::Wildcard);
        }

        // RFC 3986 §3.2.1 (and RFC 9700 §4.1.1's open-redirect concerns): a user name in the
        // authority dresses one host as another.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::UserInfo);
        }

        // Redirect URIs are compared as exact strings (RFC 6749 §3.1.2.3), but the browser
        // follows the normalised one: `https:///cb`, `http://2130706433/` or `/a/../b` would
        // be registered as one URI and visited as another. Web URIs must already be normal.
        let web = matches!(url.scheme(), "https" | "http");
        if web && !written_as_parsed(value, &url) {
            return Err(RedirectUriError::NotNormal(url.to_string()));
        }

        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(RedirectUriError::InsecureScheme),
            // RFC 8252 §7.1: private-use schemes are reverse domain names.
            scheme if scheme.contains('.') => {}
            _ => return Err(RedirectUriError::PrivateUseScheme),
        }

        Ok(Self(value.to_string()))
    }

    /// Wraps a value already validated at registration (read back from storage).
    pub fn from_registered(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a URL's host is a loopback address or `localhost` (RFC 8252 §8.3).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The issuer identifier (OIDC Discovery §3; RFC 9207 §2), kept exactly as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuer {
    text: String,
    url: Url,
}

/// Why an issuer identifier is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IssuerError {
    #[error("is not an absolute URL")]
    NotAbsolute,
    #[error("must use https; plain http is allowed only on a loopback address")]
    InsecureScheme,
    #[error("must not contain a query or a fragment (OIDC Discovery §3)")]
    QueryOrFragment,
    #[error("must not end with a slash, so that the endpoint URLs derived from it are unique")]
    TrailingSlash,
}

impl Issuer {
    pub fn parse(value: &str) -> Result<Self, IssuerError> {
        let url = Url::parse(value).map_err(|_| IssuerError::NotAbsolute)?;

        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            _ => return Err(IssuerError::InsecureScheme),
        }

        if url.query().is_some() || url.fragment().is_some() || value.contains(['?', '#']) {
            return Err(IssuerError::QueryOrFragment);
        }

        if value.ends_with('/') {
            return Err(IssuerError::TrailingSlash);
        }

        Ok(Self {
            text: value.to_string(),
            url,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the issuer is served over https (the secure cookie attributes depend on it).
    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The path under which every endpoint lives, without a trailing slash ("" at the root).
    pub fn base_path(&self) -> &str {
        self.url.path().trim_end_matches('/')
    }

    /// An endpoint URL below the issuer, built with the `url` crate.
    pub fn endpoint(&self, segments: &[&str]) -> String {
        let mut url = self.url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.to_string()
    }
}

#[cfg(test)]
mod tests;
