//! WebAuthn (W3C Web Authentication Level 2): passkeys and security keys, as the second
//! factor after a password, as a passwordless login, and registered either while a login
//! enrols its first factor or from the account page.
//!
//! Enforces: the relying party is the issuer's host, and the only origin accepted is the
//! issuer's; an issuer on an IP address offers no WebAuthn at all (browsers refuse one as an
//! RP ID). Every ceremony's state stays on the server, under the interaction (or the key the
//! account page gives) and its purpose, and is taken by the one response that answers it.
//! webauthn-rs checks each response against that state (challenge, origin, RP ID hash, user
//! presence and verification, signature); on top of it, each rule with its own guard: a
//! passwordless assertion shows user verification; its user handle names the credential's
//! owner; the signature counter advances unless it is always 0; a credential id is
//! registered once; a disabled person is not logged in. Registration asks for a discoverable
//! credential with user verification, and excludes the person's existing credentials.
//!
//! The flows live in submodules: [`passwordless`], [`factor`] (second factor and enrolment
//! during a login) and [`account`] (the account page's calls).

mod account;
mod factor;
mod passwordless;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tessera_protocol::types::Issuer;
use tessera_protocol::OAuthError;
use tessera_store::{Tx, WebauthnCredential, WebauthnUse};
use url::{Host, Url};
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, Credential, Passkey, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::{Provider, ProviderError};

pub use account::{KeySummary, RegisteredKey};
pub use factor::{KeyEnrolForm, KeyForm};

/// The message beside the passkey button after any failed attempt on the second-factor and
/// enrolment pages, whatever failed: it says nothing about which credentials exist.
pub const KEY_NOT_ACCEPTED: &str = "That passkey or security key was not accepted.";

/// The message on the login page after any failed passwordless attempt.
pub const PASSKEY_LOGIN_FAILED: &str =
    "That passkey was not accepted. Try again, or sign in with your password.";

/// RFC 8176 §2 "swk": proof of possession of a software-secured key. Given for every
/// credential: "hwk" (a hardware-secured key) would need proof that the key lives in
/// hardware, which only a verified attestation gives, and Tessera asks for none. The BE flag
/// (WebAuthn Level 3 §6.1) is the authenticator's own unproven word, so a clear flag does
/// not make a key hardware-bound either (any software authenticator can clear it). The
/// step-up work maps "swk" in a multi-factor login to the `acr` "phr".
// TODO: "hwk" and `phrh` for keys whose attestation verifies against trusted roots.
pub const AMR_SOFTWARE_KEY: &str = "swk";
/// RFC 8176 §2 "user". The RFC describes a user-presence test; every WebAuthn assertion
/// tests presence (the UP flag, which webauthn-rs requires), so Tessera reserves "user" for
/// the stronger case, user verification (the UV flag: a PIN or biometric on the
/// authenticator), which is what a relying party needs to tell apart.
pub const AMR_USER_VERIFIED: &str = "user";
/// RFC 8176 §2 "pwd" and "mfa", as the other login paths use them.
const AMR_PASSWORD: &str = "pwd";
const AMR_MULTI_FACTOR: &str = "mfa";

/// How a credential took part in a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLogin {
    /// After the password, as the second factor.
    SecondFactor,
    /// On its own, the credential discovered by the authenticator.
    Passwordless,
}

/// What the authenticator data of a ceremony said about the credential and the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyFlags {
    /// BE (WebAuthn Level 3 §6.1): the credential may be synced to other devices.
    pub backup_eligible: bool,
    /// UV (WebAuthn L2 §6.1): the authenticator verified the person.
    pub user_verified: bool,
}

/// The `amr` of a login with a credential (RFC 8176 §2), space-separated: "pwd" when a
/// password came first; "swk" (see [`AMR_SOFTWARE_KEY`]); "user" when UV was set; "mfa" when
/// two factors were used: a password and a key, or a key unlocked by user verification
/// (something held and something known or something one is).
pub fn amr(login: KeyLogin, flags: KeyFlags) -> String {
    let mut values = Vec::with_capacity(4);
    if login == KeyLogin::SecondFactor {
        values.push(AMR_PASSWORD);
    }
    values.push(AMR_SOFTWARE_KEY);
    if flags.user_verified {
        values.push(AMR_USER_VERIFIED);
    }
    if login == KeyLogin::SecondFactor || flags.user_verified {
        values.push(AMR_MULTI_FACTOR);
    }
    values.join(" ")
}

/// W3C WebAuthn L2 §7.2 step 21: when the presented signature counter or the stored one is
/// nonzero, the presented one must be greater; anything else signals that the credential's
/// private key may exist twice (a cloned authenticator). Authenticators without a counter
/// always send 0, and are accepted as long as the stored counter is 0 too.
pub fn sign_count_advances(stored: i64, presented: u32) -> bool {
    let presented = i64::from(presented);
    if presented == 0 && stored == 0 {
        return true;
    }
    presented > stored
}

/// Longest credential name, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 64;

/// Why a credential name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyNameRefusal {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than 64 characters")]
    TooLong,
    #[error("the name contains control characters")]
    Control,
}

/// The name a person gives a credential, to tell their credentials apart: trimmed, 1 to 64
/// characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(text: &str) -> Result<Self, KeyNameRefusal> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyNameRefusal::Empty);
        }
        if text.chars().count() > MAX_KEY_NAME_CHARS {
            return Err(KeyNameRefusal::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(KeyNameRefusal::Control);
        }
        Ok(Self(text.to_string()))
    }

    /// The name typed at registration, or, when none was, one that says what kind of
    /// credential it is.
    pub fn or_default(text: &str, backup_eligible: bool) -> Result<Self, KeyNameRefusal> {
        match Self::parse(text) {
            Err(KeyNameRefusal::Empty) if backup_eligible => Ok(Self("Passkey".to_string())),
            Err(KeyNameRefusal::Empty) => Ok(Self("Security key".to_string())),
            other => other,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a WebAuthn response, or a request about a credential, was refused. The reason goes
/// to the audit trail; the person sees one message for all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    #[error("WebAuthn is not offered: the issuer's host is not a domain name")]
    Unavailable,
    #[error("the response is not a WebAuthn credential")]
    Malformed,
    #[error("no ceremony is waiting for this response")]
    NoCeremony,
    #[error("the credential is not registered to this person")]
    UnknownCredential,
    /// W3C WebAuthn L2 §7.2 step 6: the user handle must name the credential's owner.
    #[error("the user handle does not name the credential's owner")]
    WrongUser,
    #[error("the response does not verify")]
    Rejected,
    /// W3C WebAuthn L2 §7.2 step 17, for the assertions that require it.
    #[error("the authenticator did not verify the person")]
    NotVerified,
    /// W3C WebAuthn L2 §7.2 step 21.
    #[error("the signature counter did not advance")]
    CounterRegressed,
    #[error("another assertion of this credential was accepted meanwhile")]
    CounterRaced,
    #[error("the account is disabled")]
    AccountDisabled,
    /// W3C WebAuthn L2 §7.1 step 22.
    #[error("the credential is registered already")]
    AlreadyRegistered,
    #[error("the person has a second factor already")]
    HasFactor,
    #[error("the person has no such credential")]
    NoSuchKey,
    #[error("{0}")]
    Name(KeyNameRefusal),
}

impl KeyRefusal {
    /// The reason as the audit trail records it.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Malformed => "malformed",
            Self::NoCeremony => "no_ceremony",
            Self::UnknownCredential => "unknown_credential",
            Self::WrongUser => "wrong_user",
            Self::Rejected => "rejected",
            Self::NotVerified => "user_not_verified",
            Self::CounterRegressed => "counter_regressed",
            Self::CounterRaced => "counter_raced",
            Self::AccountDisabled => "account_disabled",
            Self::AlreadyRegistered => "already_registered",
            Self::HasFactor => "has_factor",
            Self::NoSuchKey => "no_such_key",
            Self::Name(_) => "bad_name",
        }
    }

    /// The refusal for an error of webauthn-rs, which checked the response.
    fn from_library(err: &WebauthnError) -> Self {
        tracing::info!(error = %err, "webauthn-rs refused a response");
        match err {
            WebauthnError::UserNotVerified => Self::NotVerified,
            WebauthnError::CredentialPossibleCompromise => Self::CounterRegressed,
            WebauthnError::CredentialNotFound => Self::UnknownCredential,
            _ => Self::Rejected,
        }
    }
}

/// What a saved ceremony is for; one of each may wait per owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Passwordless,
    SecondFactor,
    Enrol,
    Account,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Passwordless => "passwordless",
            Self::SecondFactor => "second_factor",
            Self::Enrol => "enrol",
            Self::Account => "account",
        }
    }
}

/// Why an issuer cannot be a WebAuthn relying party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// W3C WebAuthn L2 §5.1.3 step 7 and §5.1.4.1 step 7: the caller's effective domain
    /// must be a valid domain, so no browser accepts an IP address as an RP ID.
    #[error("the issuer's host is an IP address, which cannot be a WebAuthn RP ID")]
    IpAddress,
    #[error("the issuer has no host")]
    NoHost,
    #[error("webauthn-rs refused the issuer's host as an RP ID")]
    Refused,
}

/// The WebAuthn relying party of one issuer.
pub struct RelyingParty {
    webauthn: Webauthn,
    rp_id: String,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("rp_id", &self.rp_id)
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// The RP ID is the issuer's host (WebAuthn L2 §5.1.2: by default the origin's effective
    /// domain); the one origin accepted is the issuer's scheme, host and port, whatever its
    /// path. Credentials are bound to the RP ID, so moving the issuer to another host loses
    /// them.
    pub fn for_issuer(issuer: &Issuer) -> Result<Self, Unavailable> {
        let url = Url::parse(issuer.as_str()).map_err(|_| Unavailable::NoHost)?;
        let rp_id = match url.host() {
            Some(Host::Domain(domain)) => domain.to_string(),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => return Err(Unavailable::IpAddress),
            None => return Err(Unavailable::NoHost),
        };
        let origin =
            Url::parse(&url.origin().ascii_serialization()).map_err(|_| Unavailable::NoHost)?;
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .and_then(|builder| builder.rp_name(&rp_id).build())
            .map_err(|_| Unavailable::Refused)?;
        Ok(Self { webauthn, rp_id })
    }

    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }
}

/// A credential id as the account page names it: base64url without padding.
pub fn key_id(credential_id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(credential_id)
}

/// Asks for a discoverable credential, so that the key works without a password later
/// (WebAuthn L2 §5.4.4: `residentKey` "required", and `requireResidentKey` true for Level 1
/// browsers). webauthn-rs leaves it discouraged for passkeys, because some security keys have
/// little room; a key that has none refuses, and the person can use an authenticator app.
fn require_discoverable(options: &mut CreationChallengeResponse) {
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
}

fn to_json(value: &impl Serialize) -> Result<String, ProviderError> {
    serde_json::to_string(value).map_err(|_| ProviderError::Webauthn("state not serialisable"))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ProviderError> {
    serde_json::from_str(text).map_err(|_| ProviderError::Webauthn("stored state unreadable"))
}

/// The webauthn-rs credential of a stored record.
fn passkey_of(record: &WebauthnCredential) -> Result<Passkey, ProviderError> {
    from_json(&record.passkey)
}

/// The flags webauthn-rs recorded when the credential was registered.
fn registered_flags(passkey: &Passkey) -> (KeyFlags, bool, u32) {
    let credential = Credential::from(passkey.clone());
    let flags = KeyFlags {
        backup_eligible: credential.backup_eligible,
        user_verified: credential.user_verified,
    };
    (flags, credential.backup_state, credential.counter)
}

impl Provider {
    /// Whether WebAuthn is offered: the issuer's host can be an RP ID.
    pub fn webauthn_offered(&self) -> bool {
        self.inner.webauthn.is_some()
    }

    fn relying_party(&self) -> Option<&RelyingParty> {
        self.inner.webauthn.as_ref()
    }

    /// Saves a ceremony's state, replacing any earlier one of the same owner and purpose.
    async fn save_ceremony(
        &self,
        owner_key: &[u8],
        purpose: Purpose,
        user_id: Option<&str>,
        state: &impl Serialize,
        expires_at: i64,
    ) -> Result<(), ProviderError> {
        let state = to_json(state)?;
        let mut tx = self.inner.store.begin().await?;
        tx.put_webauthn_ceremony(owner_key, purpose.as_str(), user_id, &state, expires_at)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Takes the ceremony waiting under `owner_key` for `purpose` and started for `user_id`
/// (`None`: for nobody in particular), and reads its state.
async fn take_ceremony<T: DeserializeOwned>(
    tx: &mut Tx,
    owner_key: &[u8],
    purpose: Purpose,
    user_id: Option<&str>,
    now: i64,
) -> Result<Result<T, KeyRefusal>, ProviderError> {
    let Some(ceremony) = tx
        .take_webauthn_ceremony(owner_key, purpose.as_str(), now)
        .await?
    else {
        return Ok(Err(KeyRefusal::NoCeremony));
    };
    // A ceremony answers only for the person it was started for.
    if ceremony.user_id.as_deref() != user_id {
        return Ok(Err(KeyRefusal::NoCeremony));
    }
    Ok(Ok(from_json(&ceremony.state)?))
}

/// Records an assertion webauthn-rs accepted: the counter rule against the stored counter,
/// then the new counter, backup flags and time of use, in `tx`.
async fn record_assertion(
    tx: &mut Tx,
    record: &WebauthnCredential,
    result: &AuthenticationResult,
    now: i64,
) -> Result<Result<KeyFlags, KeyRefusal>, ProviderError> {
    // W3C WebAuthn L2 §7.2 step 21, against the counter stored now: webauthn-rs compared
    // with the copy taken when the ceremony started, which another login may have passed.
    if !sign_count_advances(record.sign_count, result.counter()) {
        return Ok(Err(KeyRefusal::CounterRegressed));
    }

    let mut passkey = passkey_of(record)?;
    passkey.update_credential(result);
    let stored = to_json(&passkey)?;
    let used = WebauthnUse {
        credential_id: &record.credential_id,
        read_sign_count: record.sign_count,
        sign_count: i64::from(result.counter()),
        passkey: &stored,
        backup_eligible: result.backup_eligible(),
        backed_up: result.backup_state(),
        now,
    };
    if !tx.record_webauthn_use(&used).await? {
        return Ok(Err(KeyRefusal::CounterRaced));
    }
    Ok(Ok(KeyFlags {
        backup_eligible: result.backup_eligible(),
        user_verified: result.user_verified(),
    }))
}

/// The error a JSON options request gets when WebAuthn is not offered.
pub(crate) fn unavailable() -> OAuthError {
    OAuthError::invalid_request("Passkeys are not available on this server.")
}

#[cfg(test)]
mod tests;
