//! The provider: everything a request handler needs, built once at start-up.

use std::sync::Arc;

use tessera_store::{Store, StoreError};

use crate::client_keys::ClientKeyCache;
use crate::keys::{KeyEncryptionKey, KeyError, Keyring};
use crate::outbound::{OutboundClient, OutboundError};
use crate::password::{PasswordError, PasswordHasher};
use crate::settings::Settings;

/// A failure that is the server's fault. The client sees only `server_error`; the operator
/// sees this value, with its source, in the request's log span.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("key handling failed")]
    Key(#[from] KeyError),
    #[error("password hashing failed")]
    Password(#[from] PasswordError),
    #[error("a stored authorization request could not be read")]
    CorruptInteraction,
    #[error("the outbound HTTP client failed")]
    Outbound(#[from] OutboundError),
}

/// Shared state of one Tessera process.
#[derive(Clone)]
pub struct Provider {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub settings: Settings,
    pub keys: Keyring,
    pub passwords: PasswordHasher,
    pub discovery: String,
    /// For client-supplied URLs only (see [`crate::outbound`]).
    pub outbound: OutboundClient,
    /// Client JWKS fetched from `jwks_uri`, for `private_key_jwt`.
    pub client_keys: ClientKeyCache,
}

impl Provider {
    /// Loads or creates the signing keys and prepares the documents served verbatim.
    pub async fn new(
        store: Store,
        settings: Settings,
        kek: &KeyEncryptionKey,
        now: i64,
    ) -> Result<Self, ProviderError> {
        let keys = Keyring::load_or_create(&store, kek, now).await?;
        let passwords = PasswordHasher::new(settings.password_hash_concurrency)?;
        let discovery = crate::discovery::metadata(&settings.issuer);
        let outbound = OutboundClient::new(settings.danger_allow_private_outbound)?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                settings,
                keys,
                passwords,
                discovery,
                outbound,
                client_keys: ClientKeyCache::default(),
            }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The discovery document, prepared once.
    pub fn discovery_json(&self) -> &str {
        &self.inner.discovery
    }

    /// The JWKS document, prepared once per key change.
    pub fn jwks_json(&self) -> &str {
        self.inner.keys.jwks_json()
    }

    pub fn passwords(&self) -> &PasswordHasher {
        &self.inner.passwords
    }
}
