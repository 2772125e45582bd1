//! The public keys a client signs its assertions with (OIDC Core §9, RFC 7523): its
//! registered inline `jwks`, or the set published at its `jwks_uri`.
//!
//! A fetched set is cached for [`CACHE_TTL`]. When an assertion names a key id the cached
//! set lacks, the set is fetched again once (the client may have rotated its keys), but
//! not more often than every [`MIN_REFETCH_INTERVAL`], so that assertions with made-up
//! key ids cannot make Tessera hammer the client's server.
//!
//! Anyone who knows a client id can send assertions, so the fetches they cause are
//! bounded too: a failed fetch is remembered for [`FAILURE_TTL`], during which the
//! client's assertions fail without a new request; and concurrent assertions for one
//! client wait for a single fetch rather than each making their own.

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

/// How long a failed fetch stands before the `jwks_uri` is tried again, seconds.
pub const FAILURE_TTL: i64 = 30;

struct Cached {
    uri: String,
    keys: Option<(Arc<JwkSet>, i64)>,
    failure: Option<(Arc<ClientKeysError>, i64)>,
}

/// Fetched JWKS by client id, with the last failure and the lock a fetch holds.
#[derive(Default)]
pub struct ClientKeyCache {
    entries: Mutex<HashMap<String, Cached>>,
    /// One lock per client that has a `jwks_uri`, held for the length of a fetch. The map
    /// grows with the registered clients only: an unknown client id never gets here.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
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
    /// This request's fetch failed; the failure is now cached.
    #[error(transparent)]
    FetchFailed(Arc<ClientKeysError>),
    #[error("the client's jwks_uri failed less than {FAILURE_TTL}s ago")]
    RecentFailure(#[source] Arc<ClientKeysError>),
}

impl ClientKeysError {
    /// The reason written to the audit trail's `cause`: which rule or failure made the
    /// keys unavailable, never the URL nor what the server answered.
    pub fn cause(&self) -> &'static str {
        match self {
            Self::NotRegistered => "client_keys_unavailable: not_registered",
            Self::Malformed => "client_keys_unavailable: jwks_malformed",
            Self::Fetch(err) => match err.cause() {
                "url_malformed" => "client_keys_unavailable: url_malformed",
                "scheme_refused" => "client_keys_unavailable: scheme_refused",
                "forbidden_address" => "client_keys_unavailable: forbidden_address",
                "timeout" => "client_keys_unavailable: timeout",
                "connect_failed" => "client_keys_unavailable: connect_failed",
                "too_large" => "client_keys_unavailable: too_large",
                "http_status" => "client_keys_unavailable: http_status",
                _ => "client_keys_unavailable: request_failed",
            },
            Self::FetchFailed(inner) | Self::RecentFailure(inner) => inner.cause(),
        }
    }
}

/// Where a set came from, so that the caller knows whether a refetch could help.
pub enum KeySource {
    Inline,
    Fetched { fresh: bool },
}

impl ClientKeyCache {
    /// The cached answer for `uri`, if it may still be used: keys younger than the TTL
    /// (or, with `refresh`, than the refetch interval), else a failure younger than
    /// [`FAILURE_TTL`].
    fn lookup(
        &self,
        client_id: &str,
        uri: &str,
        refresh: bool,
        now: i64,
    ) -> Option<Result<Arc<JwkSet>, ClientKeysError>> {
        let entries = self.entries.lock().ok()?;
        let cached = entries.get(client_id).filter(|c| c.uri == uri)?;

        let max_age = if refresh {
            MIN_REFETCH_INTERVAL
        } else {
            CACHE_TTL
        };
        if let Some((keys, fetched_at)) = &cached.keys {
            if now - fetched_at < max_age {
                return Some(Ok(keys.clone()));
            }
        }

        match &cached.failure {
            Some((failure, failed_at)) if now - failed_at < FAILURE_TTL => {
                Some(Err(ClientKeysError::RecentFailure(failure.clone())))
            }
            _ => None,
        }
    }

    /// Records the outcome of a fetch. A failure keeps the keys fetched before it, which
    /// stay usable for the rest of their TTL.
    fn record(
        &self,
        client_id: &str,
        uri: &str,
        outcome: Result<Arc<JwkSet>, Arc<ClientKeysError>>,
        now: i64,
    ) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let entry = entries
            .entry(client_id.to_string())
            .or_insert_with(|| Cached {
                uri: uri.to_string(),
                keys: None,
                failure: None,
            });
        if entry.uri != uri {
            *entry = Cached {
                uri: uri.to_string(),
                keys: None,
                failure: None,
            };
        }
        match outcome {
            Ok(keys) => {
                entry.keys = Some((keys, now));
                entry.failure = None;
            }
            Err(failure) => entry.failure = Some((failure, now)),
        }
    }

    /// The lock that one fetch of this client's set holds.
    fn flight(&self, client_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.flights.lock() {
            Ok(mut flights) => flights.entry(client_id.to_string()).or_default().clone(),
            // A poisoned map only loses the sharing, never the fetch.
            Err(_) => Arc::default(),
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
        if let Some(cached) = cache.lookup(&client.id, uri, refresh, now) {
            return cached.map(|keys| (keys, KeySource::Fetched { fresh: refresh }));
        }

        // One fetch at a time per client; whoever waited finds its result in the cache.
        let flight = cache.flight(&client.id);
        let _fetching = flight.lock().await;
        if let Some(cached) = cache.lookup(&client.id, uri, refresh, now) {
            return cached.map(|keys| (keys, KeySource::Fetched { fresh: true }));
        }

        match self.fetch_client_keys(uri).await {
            Ok(keys) => {
                cache.record(&client.id, uri, Ok(keys.clone()), now);
                Ok((keys, KeySource::Fetched { fresh: true }))
            }
            Err(err) => {
                let err = Arc::new(err);
                cache.record(&client.id, uri, Err(err.clone()), now);
                Err(ClientKeysError::FetchFailed(err))
            }
        }
    }

    async fn fetch_client_keys(&self, uri: &str) -> Result<Arc<JwkSet>, ClientKeysError> {
        let body = self.inner.outbound.get(uri).await?;
        let keys = JwkSet::from_bytes(&body).map_err(|_| ClientKeysError::Malformed)?;
        Ok(Arc::new(keys))
    }
}
