//! Request parameters as sent on the wire.
//!
//! RFC 6749 §3.1 and §3.2: parameters sent without a value are treated as omitted, and a
//! parameter must not be included more than once. Both rules are enforced here, for the
//! query string and for `application/x-www-form-urlencoded` bodies alike, before any
//! endpoint looks at a single value.

use std::collections::HashMap;

use crate::OAuthError;

/// The parameters of one request, each present at most once and never empty.
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes (a query string or a form body).
    pub fn parse(bytes: &[u8]) -> Result<Self, OAuthError> {
        if std::str::from_utf8(bytes).is_err() {
            return Err(OAuthError::invalid_request(
                "the request is not valid UTF-8",
            ));
        }
        let mut map = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(bytes) {
            // Percent-decoding replaces invalid UTF-8 with U+FFFD: refuse rather than guess.
            if name.contains('\u{FFFD}') || value.contains('\u{FFFD}') {
                return Err(OAuthError::invalid_request(
                    "a parameter is not valid UTF-8",
                ));
            }
            if value.is_empty() {
                continue;
            }
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {} was sent more than once",
                    short(&name)
                )));
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter {name}")))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Removes a parameter, so that a value authenticated elsewhere cannot be read twice.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    pub fn insert(&mut self, name: &str, value: String) {
        self.0.insert(name.to_string(), value);
    }
}

/// A parameter name shortened for an error message, so that a hostile name cannot bloat it.
fn short(name: &str) -> String {
    name.chars().take(40).filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests;
