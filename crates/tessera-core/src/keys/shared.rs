//! The keyring every request reads, replaced whole when the stored keys change.
//!
//! Requests load the current snapshot without a lock (`arc-swap`); a reload builds a new
//! snapshot beside it and swaps it in, so a request never sees half a key set. A rotation
//! made by another instance or by the CLI reaches this one at its next reload.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::{Map, Value};
use tessera_store::Store;

use super::{Alg, KeyEncryptionKey, KeyError, Keyring};
use crate::published::Published;

pub struct SharedKeyring {
    current: ArcSwap<Keyring>,
}

impl SharedKeyring {
    pub fn new(ring: Keyring) -> Self {
        Self {
            current: ArcSwap::from_pointee(ring),
        }
    }

    /// The snapshot in force now.
    pub fn snapshot(&self) -> Arc<Keyring> {
        self.current.load_full()
    }

    /// The JWKS document of the snapshot in force now.
    pub fn jwks(&self) -> Published {
        self.current.load().jwks().clone()
    }

    /// Signs with the key active at `now`, the request's time.
    pub fn sign_at(
        &self,
        alg: Alg,
        typ: &str,
        claims: &impl serde::Serialize,
        now: i64,
    ) -> Result<String, KeyError> {
        self.current.load().sign_at(alg, typ, claims, now)
    }

    /// Verifies with any key published at `now`; see [`Keyring::verify_at`].
    pub fn verify_at(
        &self,
        token: &str,
        alg: Alg,
        typ: &str,
        now: i64,
    ) -> Option<Map<String, Value>> {
        self.current.load().verify_at(token, alg, typ, now)
    }

    /// Reads the keys from the database and swaps in a new snapshot if they changed (a key
    /// added, retired or past its retention). Returns whether it swapped.
    pub async fn reload(
        &self,
        store: &Store,
        kek: &KeyEncryptionKey,
        now: i64,
        retention: i64,
    ) -> Result<bool, KeyError> {
        let records = store.signing_keys().await?;
        let current = self.current.load();
        if current.retention == retention && current.matches(&records, now) {
            return Ok(false);
        }
        let ring = Keyring::from_records(&records, kek, now, retention)?;
        self.current.store(Arc::new(ring));
        Ok(true)
    }
}
