//! Time-based one-time passwords (RFC 6238), as every authenticator app computes them.
//!
//! Enforces: SHA-1, 6 digits, 30-second steps (RFC 6238 §4 defaults, which every app
//! accepts); one step of clock skew either way (§5.2 recommends at most one); 160-bit
//! secrets (RFC 4226 §4 R6 recommends 160); a code is accepted only for a step later than
//! the last accepted one, which the store enforces atomically (§5.2: "the verifier MUST NOT
//! accept the second attempt of the same OTP"). Secrets are sealed at rest with the
//! key-encryption key, bound to their user by the associated data.
//!
//! No I/O here: the time is an argument, so the window edges are tested with a fixed clock.

use rand::rngs::OsRng;
use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};
use url::Url;
use zeroize::Zeroizing;

use crate::keys::{KeyEncryptionKey, KeyError};

/// Digits of the codes Tessera accepts.
pub const DIGITS: usize = 6;
/// Seconds per time step (RFC 6238 §4.1, X).
pub const STEP: i64 = 30;
/// Steps of skew accepted either way (RFC 6238 §5.2).
pub const SKEW: i64 = 1;
/// 160 bits (RFC 4226 §4, R6).
const SECRET_BYTES: usize = 20;

/// A TOTP shared secret: redacted in `Debug`, zeroed on drop, no `==`.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([REDACTED])")
    }
}

/// The associated data that binds a sealed secret to its user, so a ciphertext copied onto
/// another person's row does not open.
fn aad(user_id: &str) -> Vec<u8> {
    [b"tessera totp v1:".as_slice(), user_id.as_bytes()].concat()
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The secret in base32 without padding, as authenticator apps take it (RFC 4648 §6).
    pub fn base32(&self) -> Zeroizing<String> {
        match Secret::Raw(self.0.to_vec()).to_encoded() {
            Secret::Encoded(text) => Zeroizing::new(text),
            Secret::Raw(_) => Zeroizing::new(String::new()),
        }
    }

    pub fn seal(&self, kek: &KeyEncryptionKey, user_id: &str) -> Result<Vec<u8>, KeyError> {
        kek.seal(&self.0, &aad(user_id))
    }

    pub fn open(sealed: &[u8], kek: &KeyEncryptionKey, user_id: &str) -> Result<Self, KeyError> {
        let opened = kek.open(sealed, &aad(user_id))?;
        Ok(Self(Zeroizing::new(opened.to_vec())))
    }

    /// The `otpauth://totp/` URI that authenticator apps read from a QR code (the Key Uri
    /// Format of Google Authenticator, which every app follows): label `issuer:account`.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Zeroizing<String> {
        let Ok(mut url) = Url::parse("otpauth://totp/") else {
            return Zeroizing::new(String::new());
        };
        // The label is one path segment: a ':' inside either part would split it wrongly.
        let label = format!("{}:{}", issuer.replace(':', ""), account.replace(':', ""));
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear().push(&label);
        }
        url.query_pairs_mut()
            .append_pair("secret", &self.base32())
            .append_pair("issuer", &issuer.replace(':', ""))
            .append_pair("algorithm", "SHA1")
            .append_pair("digits", &DIGITS.to_string())
            .append_pair("period", &STEP.to_string());
        Zeroizing::new(url.to_string())
    }

    /// The code of `digits` digits for the step holding `time` (RFC 6238 §4.2).
    pub fn code_at(&self, digits: usize, time: i64) -> Option<Zeroizing<String>> {
        let time = u64::try_from(time).ok()?;
        let step = u64::try_from(STEP).ok()?;
        let totp = TOTP::new(Algorithm::SHA1, digits, 0, step, self.0.to_vec()).ok()?;
        Some(Zeroizing::new(totp.generate(time)))
    }
}

/// The time step holding `now` (RFC 6238 §4.2, T).
pub fn time_step(now: i64) -> i64 {
    now.div_euclid(STEP)
}

/// Strips the spaces and dashes some apps and people put inside a code.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Whether `code` looks like a TOTP code at all (six ASCII digits), before any check.
pub fn is_totp_shaped(code: &str) -> bool {
    let code = normalize(code);
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The time step `code` belongs to, if it is the code of the step holding `now` or of one
/// step either side; the latest such step when several match. Whether that step is later
/// than the last accepted one is the store's check, made atomically.
pub fn matching_step(secret: &TotpSecret, code: &str, now: i64) -> Option<i64> {
    let code = Zeroizing::new(normalize(code));
    if !is_totp_shaped(&code) {
        return None;
    }
    let current = time_step(now);
    let mut found = None;
    for step in (current - SKEW)..=(current + SKEW) {
        let Some(expected) = secret.code_at(DIGITS, step * STEP) else {
            continue;
        };
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// The QR code of `text` (an `otpauth://` URI) as an inline SVG element, the XML declaration
/// dropped: drawn on the server, since the pages' CSP loads no image from elsewhere.
pub(crate) fn qr_svg(text: &str) -> zeroize::Zeroizing<String> {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M) else {
        return zeroize::Zeroizing::new(String::new());
    };
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    zeroize::Zeroizing::new(svg[start..].to_string())
}

#[cfg(test)]
mod tests;
