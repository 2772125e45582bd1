//! Usernames compared the way RFC 8265 §3.3 (UsernameCaseMapped) prescribes: width-mapped,
//! case-folded and NFC-normalised, so look-alike spellings of one name collapse to one key.

use precis_profiles::precis_core::profile::PrecisFastInvocation;
use precis_profiles::UsernameCaseMapped;

/// The longest username accepted, in bytes after normalisation.
pub const MAX_USERNAME_LEN: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsernameError {
    #[error("username is empty")]
    Empty,
    #[error("username is longer than 256 bytes")]
    TooLong,
    #[error("username contains characters that are not allowed (RFC 8265)")]
    Disallowed,
}

/// Returns the key under which a username is stored and looked up.
pub fn username_key(username: &str) -> Result<String, UsernameError> {
    if username.is_empty() {
        return Err(UsernameError::Empty);
    }
    if username.len() > MAX_USERNAME_LEN {
        return Err(UsernameError::TooLong);
    }
    let key = UsernameCaseMapped::enforce(username).map_err(|_| UsernameError::Disallowed)?;
    if key.len() > MAX_USERNAME_LEN {
        return Err(UsernameError::TooLong);
    }
    Ok(key.into_owned())
}

#[cfg(test)]
mod tests;
