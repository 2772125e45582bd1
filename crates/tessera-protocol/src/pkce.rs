//! Proof Key for Code Exchange (RFC 7636).
//!
//! Only `S256` is accepted: `plain` offers no protection when the challenge leaks, and
//! RFC 9700 §2.1.1 asks servers to refuse it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::OAuthError;

/// `code_challenge` with method `S256` (RFC 7636 §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Validates `code_challenge` and `code_challenge_method` from an authorization request.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, OAuthError> {
        // RFC 7636 §4.3: an absent method means `plain`, which Tessera does not support.
        match method {
            Some("S256") => {}
            Some("plain") | None => {
                return Err(OAuthError::invalid_request(
                    "code_challenge_method must be S256; plain is not supported",
                ))
            }
            Some(_) => {
                return Err(OAuthError::invalid_request(
                    "unsupported code_challenge_method",
                ))
            }
        }

        // A SHA-256 digest in unpadded base64url is exactly 43 characters.
        let decoded = URL_SAFE_NO_PAD
            .decode(challenge)
            .ok()
            .filter(|d| d.len() == 32);
        if challenge.len() != 43 || decoded.is_none() {
            return Err(OAuthError::invalid_request(
                "code_challenge is not a S256 challenge",
            ));
        }

        Ok(Self(challenge.to_string()))
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge.
    pub fn verify(&self, verifier: &str) -> Result<(), OAuthError> {
        // §4.1: code_verifier = 43*128unreserved
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !well_formed {
            return Err(OAuthError::invalid_grant("code_verifier is malformed"));
        }

        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if bool::from(computed.as_bytes().ct_eq(self.0.as_bytes())) {
            Ok(())
        } else {
            Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ))
        }
    }
}

#[cfg(test)]
mod tests;
