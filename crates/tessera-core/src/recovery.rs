//! Recovery codes: the way back in when the authenticator is lost.
//!
//! Enforces: ten codes per set; each 12 symbols of Crockford's base32, so 60 random bits
//! (NIST SP 800-63B §5.1.2.1 asks look-up secrets for at least 20 bits; we want them to
//! survive offline guessing of their hash too); shown once, stored as SHA-256, which is
//! enough for random values of that size (see [`crate::secret`]); each usable once, which
//! the store enforces atomically; a new set replaces the whole old one.

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::secret::digest;

/// Codes per set.
pub const CODES_PER_SET: usize = 10;
/// Symbols per code; each carries 5 bits.
const SYMBOLS: usize = 12;
// At least 50 random bits per code, checked when compiling.
const _: () = assert!(SYMBOLS * 5 >= 50);
/// Crockford's base32 in lower case: no i, l, o or u, so nothing reads as something else.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// One recovery code as shown to the person, `xxxx-xxxx-xxxx`. Redacted in `Debug`.
pub struct RecoveryCode(Zeroizing<String>);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([REDACTED])")
    }
}

impl RecoveryCode {
    fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; SYMBOLS]);
        OsRng.fill_bytes(bytes.as_mut());
        let mut text = Zeroizing::new(String::with_capacity(SYMBOLS + 2));
        for (i, byte) in bytes.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                text.push('-');
            }
            // 32 divides 256, so the low five bits of a uniform byte are uniform.
            text.push(char::from(ALPHABET[usize::from(byte & 31)]));
        }
        Self(text)
    }

    /// The code to show, at the one place that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> [u8; 32] {
        stored_form(&self.0).unwrap_or_default()
    }
}

/// A fresh set of codes.
pub fn generate_set() -> Vec<RecoveryCode> {
    (0..CODES_PER_SET)
        .map(|_| RecoveryCode::generate())
        .collect()
}

/// The digest stored for a code as someone typed it, or `None` when it cannot be one:
/// case, spaces and dashes are ignored, and the letters Crockford's base32 reads as digits
/// (o as 0, i and l as 1) are read so.
pub fn stored_form(typed: &str) -> Option<[u8; 32]> {
    let mut canonical = Zeroizing::new(String::with_capacity(SYMBOLS));
    for c in typed.chars() {
        let c = match c.to_ascii_lowercase() {
            ' ' | '-' => continue,
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        canonical.push(c);
    }
    (canonical.len() == SYMBOLS).then(|| digest(&canonical))
}

#[cfg(test)]
mod tests;
