//! Why an interaction exists: an app's authorization request, or the person's own account.
//!
//! Both kinds share one login state machine (password, then second factor, see
//! [`crate::interaction`] and [`crate::second_factor`]); what differs is only where it ends.
//! An authorization interaction ends with consent and a code at the client's redirect URI;
//! an account interaction ends at `/account`. The difference is carried by the type: only
//! [`Purpose::Authorization`] holds an [`AuthorizationRequest`], and issuing a code needs
//! one, so no path through the pages can turn an account interaction into a code.
//! `/authorize` only ever opens authorization interactions, and only `/account` opens
//! account ones.

use serde::{Deserialize, Serialize};
use tessera_protocol::authorize::AuthorizationRequest;

use crate::ProviderError;

/// The stored names of the purposes (the `purpose` column).
const AUTHORIZATION: &str = "authorization";
const ACCOUNT: &str = "account";

/// What the hosted pages say a login is for when it is for the account page.
pub const ACCOUNT_AUDIENCE: &str = "your account";

/// Why an interaction exists.
// One short-lived value per request; boxing the request would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Purpose {
    /// An app's validated authorization request, waiting for login and consent.
    Authorization(AuthorizationRequest),
    /// The account page: a login, a re-authentication, or an authenticator set up from the
    /// page; every one of them returns to `/account`.
    Account(AccountLogin),
}

/// What an account interaction remembers.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLogin {
    /// The username to fill in when a person already signed in is asked to log in again.
    pub login_hint: Option<String>,
}

impl Purpose {
    /// Reads a stored interaction's `purpose` and `request` columns. An unknown purpose is
    /// a corrupt row, never a guess: it must not be read as an authorization request.
    pub(crate) fn from_stored(purpose: &str, request: &str) -> Result<Self, ProviderError> {
        match purpose {
            AUTHORIZATION => serde_json::from_str(request)
                .map(Self::Authorization)
                .map_err(|_| ProviderError::CorruptInteraction),
            ACCOUNT => serde_json::from_str(request)
                .map(Self::Account)
                .map_err(|_| ProviderError::CorruptInteraction),
            _ => Err(ProviderError::CorruptInteraction),
        }
    }

    /// The `purpose` and `request` columns to store.
    pub(crate) fn to_stored(&self) -> Result<(&'static str, String), ProviderError> {
        let (name, json) = match self {
            Self::Authorization(request) => (AUTHORIZATION, serde_json::to_string(request)),
            Self::Account(login) => (ACCOUNT, serde_json::to_string(login)),
        };
        json.map(|json| (name, json))
            .map_err(|_| ProviderError::CorruptInteraction)
    }

    /// The client the login is for, if any; audit events name it.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::Authorization(request) => Some(request.client_id.as_str()),
            Self::Account(_) => None,
        }
    }

    /// The username to fill in on the login page.
    pub fn login_hint(&self) -> Option<String> {
        match self {
            Self::Authorization(request) => request.login_hint.as_ref().map(|h| h.to_string()),
            Self::Account(login) => login.login_hint.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
