//! Authentication Context Class References: the `acr` claim (OIDC Core §2) and the
//! `acr_values` request parameter (OIDC Core §3.1.2.1).
//!
//! Tessera names four classes, strongest last. Two are its own, under a URN it controls
//! (OIDC Core §2 asks for absolute URIs or registered names); two are registered by the
//! OpenID Connect EAP ACR Values 1.0 specification (§2): `phr`, phishing-resistant, and
//! `phrh`, phishing-resistant with a hardware-protected key. Which logins reach which class
//! is the domain's rule (`tessera_core::acr`); this module only names them and reads the
//! parameter.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::types::opaque;
use crate::OAuthError;

/// One authentication context class. The order of the variants is the order of strength:
/// a login of a stronger class also meets every weaker one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Acr {
    /// One factor: the password.
    #[serde(rename = "urn:tessera:acr:pwd")]
    Password,
    /// Two factors of different kinds.
    #[serde(rename = "urn:tessera:acr:mfa")]
    MultiFactor,
    /// EAP ACR Values §2 `phr`: a phishing-resistant authenticator (a WebAuthn key).
    #[serde(rename = "phr")]
    PhishingResistant,
    /// EAP ACR Values §2 `phrh`: phishing-resistant, with the key held in hardware.
    #[serde(rename = "phrh")]
    PhishingResistantHardware,
}

impl Acr {
    /// The classes a login can reach today, weakest first, as discovery lists them
    /// (`acr_values_supported`). `phrh` needs keys whose attestation proves hardware, which
    /// Tessera does not verify yet: it is understood in `acr_values`, never advertised.
    pub const REACHED: [Acr; 3] = [Acr::Password, Acr::MultiFactor, Acr::PhishingResistant];

    /// Every class Tessera understands, weakest first.
    pub const ALL: [Acr; 4] = [
        Acr::Password,
        Acr::MultiFactor,
        Acr::PhishingResistant,
        Acr::PhishingResistantHardware,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "urn:tessera:acr:pwd",
            Self::MultiFactor => "urn:tessera:acr:mfa",
            Self::PhishingResistant => "phr",
            Self::PhishingResistantHardware => "phrh",
        }
    }

    /// The class named by `value`, compared exactly (ACR values are case-sensitive
    /// strings, OIDC Core §2); `None` for a value Tessera does not define.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|acr| acr.as_str() == value)
    }
}

impl fmt::Display for Acr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads `acr_values` (OIDC Core §3.1.2.1: space-separated, in order of preference).
///
/// Values Tessera does not define are dropped: the parameter is a voluntary request, and
/// a client may list classes meant for other providers. The known ones keep their order,
/// each once. Only the length and character set of the whole parameter can make it
/// invalid, as for any other opaque parameter.
pub fn parse_acr_values(value: &str) -> Result<Vec<Acr>, OAuthError> {
    let value = opaque("acr_values", value)?;
    let mut known = Vec::new();
    for acr in value.split(' ').filter_map(Acr::parse) {
        if !known.contains(&acr) {
            known.push(acr);
        }
    }
    Ok(known)
}

#[cfg(test)]
mod tests;
