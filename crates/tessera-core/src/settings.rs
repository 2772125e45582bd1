//! The settings the domain needs; the binary reads them from files and the environment.

use tessera_protocol::types::Issuer;

/// Lifetimes and limits of the provider. Every field's default is documented where the
/// binary's configuration declares it.
#[derive(Clone, Debug)]
pub struct Settings {
    pub issuer: Issuer,
    /// Lifetime of access tokens, seconds.
    pub access_token_ttl: i64,
    /// Lifetime of ID tokens, seconds.
    pub id_token_ttl: i64,
    /// Lifetime of a browser session after login, seconds.
    pub session_ttl: i64,
    /// How long a person has to finish logging in and consenting, seconds.
    pub interaction_ttl: i64,
    /// Fewest characters a new password may have (NIST SP 800-63B §3.1.1.2); at least 8.
    pub password_min_length: usize,
    /// Whether logins need a second factor for clients that set no policy of their own.
    /// Default optional: only people who enrolled one use it.
    pub mfa_default: crate::mfa::MfaPolicy,
    /// How recently, in seconds, the person must have authenticated for the account page to
    /// add or remove a second factor or make new recovery codes; older sessions are sent to
    /// log in again first. Default 300.
    pub reauthentication_window: i64,
    /// Number of password hashes computed at once.
    pub password_hash_concurrency: usize,
    /// Proxies whose `X-Forwarded-For` is believed: a request from one of these addresses
    /// is recorded with the client address the proxies forwarded. Empty (the default): the
    /// peer address, whatever the request says.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a new signing key is published in JWKS before it signs, seconds.
    pub key_publish_ahead: i64,
    /// Age at which the running server rotates a signing key, seconds; 0 turns it off.
    pub key_rotation_interval: i64,
    /// Whether requests to client-supplied URLs (JWKS, back-channel logout) may reach
    /// private, loopback and link-local addresses, and plain http on loopback. Off by
    /// default; see [`crate::outbound`].
    pub danger_allow_private_outbound: bool,
    /// Delay before the first retry of a back-channel logout notification, seconds; it
    /// doubles with each failed attempt.
    pub logout_retry_base: i64,
    /// Attempts made to deliver a back-channel logout notification before giving up.
    pub logout_max_attempts: i64,
    /// The delays after failed passwords, codes and client authentications; see
    /// [`crate::throttle`].
    pub throttle: crate::throttle::ThrottleSettings,
    /// Export, webhook and retention of the audit trail.
    pub audit: crate::audit::AuditSettings,
    /// Risk scoring of logins: the signals' weights, the thresholds, GeoIP; see
    /// [`crate::risk`].
    pub risk: crate::risk::RiskSettings,
}

impl Settings {
    /// The rules new passwords must meet.
    pub fn password_policy(&self) -> crate::password_policy::PasswordPolicy {
        crate::password_policy::PasswordPolicy::new(self.password_min_length)
    }

    /// Authorization codes live 60 s at most (RFC 6749 §4.1.2 recommends ten minutes at
    /// most; a code is redeemed by a back-end within a second in practice).
    pub const CODE_TTL: i64 = 60;

    /// Clock difference between Tessera and a relying party that a key's retention allows
    /// for, seconds: a token checked a little after its `exp` by a slow clock still finds
    /// its key.
    pub const KEY_RETENTION_LEEWAY: i64 = 300;

    /// How long a retired signing key stays published, seconds: the longest lifetime of a
    /// token it can have signed, plus [`Self::KEY_RETENTION_LEEWAY`]. Refresh tokens are
    /// opaque and signed by nothing, so they do not count. Logout tokens are signed afresh
    /// at each delivery attempt, so only their own short lifetime counts.
    pub fn key_retention(&self) -> i64 {
        let longest = self
            .access_token_ttl
            .max(self.id_token_ttl)
            .max(crate::backchannel::LOGOUT_TOKEN_TTL);
        longest.saturating_add(Self::KEY_RETENTION_LEEWAY)
    }

    pub fn new(issuer: Issuer) -> Self {
        Self {
            issuer,
            access_token_ttl: 300,
            id_token_ttl: 3600,
            session_ttl: 12 * 3600,
            interaction_ttl: 600,
            password_min_length: crate::password_policy::MIN_PASSWORD_CHARS,
            mfa_default: crate::mfa::MfaPolicy::Optional,
            reauthentication_window: 300,
            password_hash_concurrency: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
            trusted_proxies: Vec::new(),
            key_publish_ahead: 3600,
            key_rotation_interval: 90 * 24 * 3600,
            danger_allow_private_outbound: false,
            logout_retry_base: 5,
            logout_max_attempts: 8,
            throttle: crate::throttle::ThrottleSettings::default(),
            audit: crate::audit::AuditSettings::default(),
            risk: crate::risk::RiskSettings::default(),
        }
    }
}
