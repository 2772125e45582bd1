//! Which passwords may be set: NIST SP 800-63B §3.1.1.2 (memorized secret verifiers).
//!
//! Enforces, one rule per guard: at least `password_min_length` characters (never fewer
//! than 8) both as typed and after NFKC, at most 256, no composition rules, and refusal of passwords found in a list of
//! common and breached passwords shipped with Tessera (`data/common-passwords.txt`; source
//! and licence in `data/README.md`). Characters are Unicode code points counted after NFKC
//! normalisation, as §3.1.1.2 asks; the list is compared case-insensitively after NFKC, so
//! `PassWord1` is as refused as `password1`.
//!
//! Not built: the optional online k-anonymity range check against a breach corpus. The
//! shipped list works offline and is what is checked.

use std::collections::HashSet;
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

/// NIST SP 800-63B §3.1.1.2: at least 8 characters; the floor of the setting.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// §3.1.1.2 asks that at least 64 be accepted; longer ones only cost hashing time.
pub const MAX_PASSWORD_CHARS: usize = 256;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .filter(|line| !line.is_empty())
        .collect()
});

/// Why a password may not be set. The text is safe to show to the person choosing it: it
/// never repeats the password.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefusal {
    #[error("the password must be at least {0} characters")]
    TooShort(usize),
    #[error("the password must be at most {0} characters")]
    TooLong(usize),
    #[error("that password is too common: it appears in lists of breached passwords")]
    Common,
}

/// The rules a new password must meet.
#[derive(Clone, Copy, Debug)]
pub struct PasswordPolicy {
    min_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::new(MIN_PASSWORD_CHARS)
    }
}

impl PasswordPolicy {
    /// `min_chars` below [`MIN_PASSWORD_CHARS`] is raised to it, above
    /// [`MAX_PASSWORD_CHARS`] lowered to it; the configuration refuses both at start.
    pub fn new(min_chars: usize) -> Self {
        Self {
            min_chars: min_chars.clamp(MIN_PASSWORD_CHARS, MAX_PASSWORD_CHARS),
        }
    }

    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// Checks a password someone wants to set.
    pub fn check(&self, password: &SecretString) -> Result<(), PasswordRefusal> {
        let normalized: zeroize::Zeroizing<String> =
            zeroize::Zeroizing::new(password.expose_secret().nfkc().collect());
        let chars = normalized.chars().count();

        // §3.1.1.2: "at least 8 characters in length" (or the configured minimum), each code
        // point one character. Counted as typed, since NFKC can turn one typed character
        // into many (U+FDFA becomes 18), which would let a one-key password pass.
        let typed = password.expose_secret().chars().count();
        if typed < self.min_chars {
            return Err(PasswordRefusal::TooShort(self.min_chars));
        }

        // And counted after NFKC, since it can also join several into one (a letter and a
        // combining accent): the hashed form must be as long.
        if chars < self.min_chars {
            return Err(PasswordRefusal::TooShort(self.min_chars));
        }

        // §3.1.1.2: verifiers "SHOULD permit ... at least 64 characters"; we cap at 256.
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordRefusal::TooLong(MAX_PASSWORD_CHARS));
        }

        // §3.1.1.2: compare against "passwords obtained from previous breach corpuses" and
        // "dictionary words"; case is ignored so trivial variants are caught too.
        let folded = zeroize::Zeroizing::new(normalized.to_lowercase());
        if COMMON.contains(folded.as_str()) {
            return Err(PasswordRefusal::Common);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
