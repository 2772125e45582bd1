//! The public keys a client signs its assertions with (OIDC Core §9, RFC 7523): its
//! registered inline `jwks`, or the set published at its `jwks_uri`.
//!
//! A fetched set is cached for [`CACHE_TTL`]. When an assertion names a key id the cached
//! set lacks, the set is fetched again once (the client may have rotated its keys), but
//! not more often than every [`MIN_REFETCH_INTERVAL`], so that assertions with made-up
//! key ids cannot make Tessera hammer the client's server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use josekit::jwk::JwkSet;
use tessera_store::Client;

use crate::outbound::OutboundError;
use crate::Provider;

/// How long a fetched JWKS is used before it is fetched again, seconds.
pub const CACHE_TTL: i64 = 300;

/// Shortest time between two fetches of one client's JWKS, seconds.
pub const MIN_REFETCH_INTERVAL: i64 = 10;

struct Cached {
    uri: String,
    fetched_at: i64,
    keys: Arc<JwkSet>,
}

/// Fetched JWKS by client id.
#[derive(Default)]
pub struct ClientKeyCache {
    entries: Mutex<HashMap<String, Cached>>,
}

/// Why a client's keys are not available. The client answer is `invalid_client` in every
/// case; this is for the audit trail and the operator's log.
#[derive(Debug, thiserror::Error)]
pub enum ClientKeysError {
    #[error("the client has no registered keys")]
    NotRegistered,
    #[error("the client's JWKS is not a valid JWK set")]
    Malformed,
    #[error("the client's jwks_uri could not be fetched")]
    Fetch(#[from] OutboundError),
}

/// Where a set came from, so that the caller knows whether a refetch could help.
pub enum KeySource {
    Inline,
    Fetched { fresh: bool },
}

impl ClientKeyCache {
    fn get(&self, client_id: &str, uri: &str) -> Option<(Arc<JwkSet>, i64)> {
        let entries = self.entries.lock().ok()?;
        let cached = entries.get(client_id).filter(|c| c.uri == uri)?;
        Some((cached.keys.clone(), cached.fetched_at))
    }

    fn put(&self, client_id: &str, uri: &str, keys: Arc<JwkSet>, now: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(
                client_id.to_string(),
                Cached {
                    uri: uri.to_string(),
                    fetched_at: now,
                    keys,
                },
            );
        }
    }
}

impl Provider {
    /// The client's keys. With `refresh`, a fetched set is fetched again unless it was
    /// fetched within [`MIN_REFETCH_INTERVAL`].
    pub(crate) async fn client_keys(
        &self,
        client: &Client,
        refresh: bool,
        now: i64,
    ) -> Result<(Arc<JwkSet>, KeySource), ClientKeysError> {
        if let Some(jwks) = &client.jwks {
            let keys = JwkSet::from_bytes(jwks).map_err(|_| ClientKeysError::Malformed)?;
            return Ok((Arc::new(keys), KeySource::Inline));
        }

        let Some(uri) = &client.jwks_uri else {
            return Err(ClientKeysError::NotRegistered);
        };

        let cache = &self.inner.client_keys;
        if let Some((keys, fetched_at)) = cache.get(&client.id, uri) {
            let age = now - fetched_at;
            let usable = if refresh {
                age < MIN_REFETCH_INTERVAL
            } else {
                age < CACHE_TTL
            };
            if usable {
                return Ok((keys, KeySource::Fetched { fresh: refresh }));
            }
        }

        let body = self.inner.outbound.get(uri).await?;
        let keys = Arc::new(JwkSet::from_bytes(&body).map_err(|_| ClientKeysError::Malformed)?);
        cache.put(&client.id, uri, keys.clone(), now);
        Ok((keys, KeySource::Fetched { fresh: true }))
    }
}
