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
    /// Number of password hashes computed at once.
    pub password_hash_concurrency: usize,
    /// Whether requests to client-supplied URLs (JWKS, back-channel logout) may reach
    /// private, loopback and link-local addresses, and plain http on loopback. Off by
    /// default; see [`crate::outbound`].
    pub danger_allow_private_outbound: bool,
    /// Delay before the first retry of a back-channel logout notification, seconds; it
    /// doubles with each failed attempt.
    pub logout_retry_base: i64,
    /// Attempts made to deliver a back-channel logout notification before giving up.
    pub logout_max_attempts: i64,
}

impl Settings {
    /// Authorization codes live 60 s at most (RFC 6749 §4.1.2 recommends ten minutes at
    /// most; a code is redeemed by a back-end within a second in practice).
    pub const CODE_TTL: i64 = 60;

    pub fn new(issuer: Issuer) -> Self {
        Self {
            issuer,
            access_token_ttl: 300,
            id_token_ttl: 3600,
            session_ttl: 12 * 3600,
            interaction_ttl: 600,
            password_hash_concurrency: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
            danger_allow_private_outbound: false,
            logout_retry_base: 5,
            logout_max_attempts: 8,
        }
    }
}
