//! Random secrets Tessera hands out, and how they are stored.
//!
//! Every secret carries 256 bits from the operating system's generator. Because a secret
//! of that entropy cannot be guessed, a single SHA-256 is enough to store it: a copy of
//! the database yields nothing that works, and checking one costs microseconds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A freshly generated secret (a code, a session id, a client secret).
pub struct RandomSecret(SecretString);

impl RandomSecret {
    /// 32 random bytes, base64url without padding (43 characters).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let text = URL_SAFE_NO_PAD.encode(bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        Self(SecretString::from(text))
    }

    /// The value to hand out, exposed at the one place that sends it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn digest(&self) -> [u8; 32] {
        digest(self.expose())
    }
}

impl std::fmt::Debug for RandomSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RandomSecret([REDACTED])")
    }
}

/// The stored form of a high-entropy secret.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares a presented secret with a stored digest in constant time.
pub fn matches_digest(presented: &str, stored: &[u8]) -> bool {
    bool::from(digest(presented).as_slice().ct_eq(stored))
}

/// The CSRF token of an interaction: an HMAC keyed by the interaction's secret id, which
/// only the browser holding the cookie knows, so another site cannot forge it.
pub fn csrf_token(interaction_id: &str) -> String {
    keyed_token(interaction_id, b"tessera csrf v1")
}

/// Checks a submitted CSRF token in constant time.
pub fn csrf_matches(interaction_id: &str, submitted: &str) -> bool {
    keyed_token_matches(interaction_id, b"tessera csrf v1", submitted)
}

/// A token derived from a secret handle the browser holds (an interaction or session id)
/// and a `label` naming its use: HMAC-SHA-256, base64url. Different labels give unrelated
/// tokens, so a token made for one form is worthless in another.
pub fn keyed_token(key: &str, label: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length; this arm exists only to avoid a panic path.
        Err(_) => return String::new(),
    };
    mac.update(label);
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Checks a submitted [`keyed_token`] in constant time.
pub fn keyed_token_matches(key: &str, label: &[u8], submitted: &str) -> bool {
    let expected = keyed_token(key, label);
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

#[cfg(test)]
mod tests;
