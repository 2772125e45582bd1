//! Request parameters as sent on the wire.
//!
//! RFC 6749 §3.1 and §3.2: parameters sent without a value are treated as omitted, and a
//! parameter must not be included more than once. Both rules are enforced here, for the
//! query string and for `application/x-www-form-urlencoded` bodies alike, before any
//! endpoint looks at a single value; only the authorization endpoint defers the refusal of
//! a repeat until it knows where the error may be sent.

use std::collections::HashMap;

use crate::OAuthError;

/// The parameters of one request, never empty; repeated names are set aside.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
    /// Names sent more than once; their values are dropped, since none can be trusted.
    repeated: Vec<String>,
}

/// Decodes one name or value of `application/x-www-form-urlencoded` (`+` is a space),
/// refusing percent-escapes that do not form UTF-8 instead of replacing them with U+FFFD,
/// so that a U+FFFD sent on purpose survives and broken input never passes as text.
fn decode(part: &str) -> Result<String, OAuthError> {
    let spaced = part.replace('+', " ");
    let text = percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| OAuthError::invalid_request("a parameter is not valid UTF-8"))?;
    // No OAuth or OpenID parameter may hold NUL (RFC 6749 Appendix A draws every value from
    // VSCHAR, NQCHAR or UNICODECHARNOCRLF, none of which includes it), and PostgreSQL's text
    // cannot store it: refused here, before any lookup, rather than failing in the database.
    if text.contains('\0') {
        return Err(OAuthError::invalid_request(
            "a parameter holds a NUL character",
        ));
    }
    Ok(text)
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes (a query string or a form body),
    /// refusing any parameter sent more than once.
    pub fn parse(bytes: &[u8]) -> Result<Self, OAuthError> {
        let params = Self::parse_keeping_repeats(bytes)?;
        match params.repeated() {
            Some(name) => Err(repeated_error(name)),
            None => Ok(params),
        }
    }

    /// Parses like [`Params::parse`], but records repeated names instead of failing, for
    /// the authorization endpoint: there a repeat is refused at the client's redirect URI
    /// once `client_id` and `redirect_uri` are trusted (RFC 6749 §4.1.2.1).
    pub fn parse_keeping_repeats(bytes: &[u8]) -> Result<Self, OAuthError> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(OAuthError::invalid_request(
                "the request is not valid UTF-8",
            ));
        };
        let mut params = Self::default();
        for pair in text.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (decode(name)?, decode(value)?);
            if value.is_empty() {
                continue;
            }
            if params.repeated.contains(&name) {
                continue;
            }
            if params.values.remove(&name).is_some() {
                params.repeated.push(name);
                continue;
            }
            params.values.insert(name, value);
        }
        Ok(params)
    }

    /// The first parameter name that was sent more than once.
    pub fn repeated(&self) -> Option<&str> {
        self.repeated.first().map(String::as_str)
    }

    /// Whether `name` was sent more than once.
    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|r| r == name)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter {name}")))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Removes a parameter, so that a value authenticated elsewhere cannot be read twice.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.values.remove(name)
    }

    pub fn insert(&mut self, name: &str, value: String) {
        self.values.insert(name.to_string(), value);
    }
}

/// RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
pub fn repeated_error(name: &str) -> OAuthError {
    OAuthError::invalid_request(format!("parameter {} was sent more than once", short(name)))
}

/// A parameter name shortened for an error message, so that a hostile name cannot bloat it.
fn short(name: &str) -> String {
    name.chars().take(40).filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests;
