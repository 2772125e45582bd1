//! The provider: everything a request handler needs, built once at start-up.

use std::sync::Arc;

use tessera_store::{Store, StoreError};

use crate::client_keys::ClientKeyCache;
use crate::keys::{KeyEncryptionKey, KeyError, Keyring, SharedKeyring};
use crate::outbound::{OutboundClient, OutboundError};
use crate::password::{PasswordError, PasswordHasher};
use crate::published::Published;
use crate::risk::geoip::GeoIp;
use crate::settings::Settings;
use crate::webauthn::RelyingParty;

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
    #[error("WebAuthn failed: {0}")]
    Webauthn(&'static str),
    #[error("a response could not be encoded")]
    Encode,
    #[error("the GeoIP database could not be opened")]
    GeoIp(#[from] crate::risk::geoip::GeoIpError),
    #[error(
        "the audit chain no longer holds the event this server sealed at position {0}: it was \
         rewritten, rehashed or cut; sealing stopped (run `tessera audit verify`)"
    )]
    AuditChainRewritten(i64),
}

/// Shared state of one Tessera process.
#[derive(Clone)]
pub struct Provider {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub settings: Settings,
    pub keys: SharedKeyring,
    /// Kept to open keys that other instances or the CLI create while this one runs.
    pub kek: KeyEncryptionKey,
    pub passwords: PasswordHasher,
    pub discovery: String,
    pub discovery_document: Published,
    /// For client-supplied URLs only (see [`crate::outbound`]).
    pub outbound: OutboundClient,
    /// Client JWKS fetched from `jwks_uri`, for `private_key_jwt`.
    pub client_keys: ClientKeyCache,
    /// The WebAuthn relying party; `None` when the issuer's host cannot be an RP ID.
    pub webauthn: Option<RelyingParty>,
    /// The GeoIP database of risk scoring; `None` when none is configured.
    pub geoip: Option<GeoIp>,
    /// The last position and hash this instance sealed (see `audit::seal`).
    pub audit_witness: std::sync::Mutex<Option<(i64, String)>>,
}

impl Provider {
    /// Loads the signing keys, creating one per algorithm if none can sign, and prepares
    /// the documents served verbatim. Several instances starting at once on one database
    /// end with the same keys: each creates only what is missing, one writer wins each
    /// algorithm, and every instance then reads back what the database holds.
    pub async fn new(
        store: Store,
        settings: Settings,
        kek: &KeyEncryptionKey,
        now: i64,
    ) -> Result<Self, ProviderError> {
        let retention = settings.key_retention();
        crate::keys::ensure_signing_keys(&store, kek, now, retention).await?;
        let records = store.signing_keys().await?;
        let keys = SharedKeyring::new(Keyring::from_records(&records, kek, now, retention)?);
        let passwords = PasswordHasher::new(settings.password_hash_concurrency)?;
        let discovery = crate::discovery::metadata(&settings.issuer);
        let discovery_document = Published::new(discovery.clone());
        let outbound = OutboundClient::new(settings.danger_allow_private_outbound)?;
        let webauthn = match RelyingParty::for_issuer(&settings.issuer) {
            Ok(rp) => Some(rp),
            Err(reason) => {
                tracing::warn!(%reason, "passkeys and security keys are not offered");
                None
            }
        };
        let geoip = open_geoip(&settings)?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                settings,
                keys,
                kek: kek.duplicate(),
                passwords,
                discovery,
                discovery_document,
                outbound,
                client_keys: ClientKeyCache::default(),
                webauthn,
                geoip,
                audit_witness: std::sync::Mutex::new(None),
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

    /// The discovery document and its entity tag.
    pub fn discovery(&self) -> Published {
        self.inner.discovery_document.clone()
    }

    /// The JWKS document and its entity tag, prepared once per key change.
    pub fn jwks(&self) -> Published {
        self.inner.keys.jwks()
    }

    /// The signing keys in force; they change when [`Provider::reload_keys`] finds that
    /// the database's keys did.
    pub fn keys(&self) -> &SharedKeyring {
        &self.inner.keys
    }

    pub fn passwords(&self) -> &PasswordHasher {
        &self.inner.passwords
    }

    /// The GeoIP database in use, if one is configured.
    pub fn geoip(&self) -> Option<&GeoIp> {
        self.inner.geoip.as_ref()
    }
}

/// Opens the configured GeoIP database; a configured one that cannot be read stops the
/// start, since scoring without it would silently drop two signals. Without one, the
/// operator is told once which signals are off.
fn open_geoip(settings: &Settings) -> Result<Option<GeoIp>, ProviderError> {
    let Some(path) = &settings.risk.geoip_database else {
        tracing::info!(
            signals = "new_country, impossible_travel",
            "risk scoring: no GeoIP database is configured (risk.geoip_database), so these \
             signals are off"
        );
        return Ok(None);
    };
    let geoip = GeoIp::open(path)?;
    tracing::info!(
        path = %path.display(),
        database_type = geoip.database_type(),
        "risk scoring: GeoIP database loaded"
    );
    Ok(Some(geoip))
}
