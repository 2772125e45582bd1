//! The notices the account page shows at its top after an action, and the proof that binds
//! one to the session it was made for.

use crate::secret::{keyed_token, keyed_token_matches};

/// What the page says at its top after an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    PasswordChanged,
    TotpRemoved,
    TotpAlreadyOn,
    NoAuthenticator,
    KeyAdded,
    KeyNotAdded,
    KeyRenamed,
    KeyRemoved,
    KeyNameRefused,
    NoSuchKey,
    DeviceEnded,
    SessionEnded,
    NoSuchDevice,
    NoSuchSession,
}

impl Notice {
    pub(super) const ALL: [Self; 14] = [
        Self::PasswordChanged,
        Self::TotpRemoved,
        Self::TotpAlreadyOn,
        Self::NoAuthenticator,
        Self::KeyAdded,
        Self::KeyNotAdded,
        Self::KeyRenamed,
        Self::KeyRemoved,
        Self::KeyNameRefused,
        Self::NoSuchKey,
        Self::DeviceEnded,
        Self::SessionEnded,
        Self::NoSuchDevice,
        Self::NoSuchSession,
    ];

    /// The name carried in the page's query string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordChanged => "password_changed",
            Self::TotpRemoved => "totp_removed",
            Self::TotpAlreadyOn => "totp_already_on",
            Self::NoAuthenticator => "no_authenticator",
            Self::KeyAdded => "key_added",
            Self::KeyNotAdded => "key_not_added",
            Self::KeyRenamed => "key_renamed",
            Self::KeyRemoved => "key_removed",
            Self::KeyNameRefused => "key_name_refused",
            Self::NoSuchKey => "no_such_key",
            Self::DeviceEnded => "device_ended",
            Self::SessionEnded => "session_ended",
            Self::NoSuchDevice => "no_such_device",
            Self::NoSuchSession => "no_such_session",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::PasswordChanged => {
                "Your password was changed. You were signed out everywhere else."
            }
            Self::TotpRemoved => "The authenticator app was removed.",
            Self::TotpAlreadyOn => "An authenticator app is already set up.",
            Self::NoAuthenticator => "Set up an authenticator app or a passkey first.",
            Self::KeyAdded => "The passkey or security key was added.",
            Self::KeyNotAdded => "No passkey or security key was added. Try again.",
            Self::KeyRenamed => "The key was renamed.",
            Self::KeyRemoved => "The key was removed.",
            Self::KeyNameRefused => {
                "A key's name is 1 to 64 characters, without control characters."
            }
            Self::NoSuchKey => "That key is not on your account.",
            Self::DeviceEnded => "The device was signed out, and the apps it signed in to with it.",
            Self::SessionEnded => "The session was ended, and the apps it signed in to with it.",
            Self::NoSuchDevice => "That device is not on your account.",
            Self::NoSuchSession => "That session is not yours, or it has already ended.",
        }
    }

    /// A token that lets the page show this notice to this session only. Without it, a link
    /// from anywhere could make the page claim that the password was changed.
    pub(super) fn proof(self, session_id: &str) -> String {
        let label = format!("tessera account notice v1 {}", self.as_str());
        keyed_token(session_id, label.as_bytes())
    }

    /// The notice named in a query string, if its proof was made for this session.
    pub(super) fn verified(session_id: &str, name: &str, proof: &str) -> Option<Self> {
        let notice = Self::ALL.into_iter().find(|n| n.as_str() == name)?;
        let label = format!("tessera account notice v1 {}", notice.as_str());
        keyed_token_matches(session_id, label.as_bytes(), proof).then_some(notice)
    }
}
