//! `Idempotency-Key` on creations (draft-ietf-httpapi-idempotency-key-header): a retry of a
//! creation whose answer was lost gets that answer again instead of creating twice.
//!
//! The first answer is stored in the transaction of the creation itself, so a crash leaves
//! either both or neither. It may hold a secret shown once (a new client's secret), so its
//! body is sealed with the key-encryption key and kept for a day only.

use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_store::{IdempotentResponse, StoreError, Tx};

use super::AdminError;
use crate::{Provider, ProviderError};

/// How long an answer is replayed, seconds.
pub const REPLAY_WINDOW: i64 = 24 * 3600;

/// The longest key accepted; the draft leaves the syntax to the server.
pub const MAX_KEY_LENGTH: usize = 255;

/// A creation request that carried an `Idempotency-Key`.
pub struct IdempotencyKey {
    principal: String,
    key: String,
    request_hash: Vec<u8>,
}

/// A stored first answer, opened.
pub struct Replay {
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

/// What a creation request with a key finds.
pub enum Prior {
    /// Nothing: create, and remember the answer.
    None,
    /// The same request was answered before: send this again.
    Replay(Replay),
    /// The key was used for a different request (the draft's 422).
    Mismatch,
}

fn aad(principal: &str, key: &str) -> Vec<u8> {
    format!("idempotency:{principal}:{key}").into_bytes()
}

impl IdempotencyKey {
    /// `key` as sent; `None` when it is empty, too long, or not visible ASCII.
    pub fn new(
        principal: String,
        key: &str,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Option<Self> {
        let usable = !key.is_empty()
            && key.len() <= MAX_KEY_LENGTH
            && key.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if !usable {
            return None;
        }
        let mut hash = Sha256::new();
        for part in [method.as_bytes(), path.as_bytes(), body] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Some(Self {
            principal,
            key: key.to_string(),
            request_hash: hash.finalize().to_vec(),
        })
    }
}

impl Provider {
    /// What is stored of the request: its digest under a key only the provider holds. The
    /// body may hold a password (a new person's), and a bare SHA-256 of it in the database
    /// could be tested against guesses by anyone who reads the table.
    fn request_mac(&self, key: &IdempotencyKey) -> [u8; 32] {
        self.inner
            .kek
            .mac(b"tessera idempotency request", &key.request_hash)
    }

    /// The earlier answer to this key, if any.
    pub async fn idempotent_prior(
        &self,
        key: &IdempotencyKey,
        now: i64,
    ) -> Result<Prior, ProviderError> {
        let Some(stored) = self
            .inner
            .store
            .idempotent_response(&key.principal, &key.key, now)
            .await?
        else {
            return Ok(Prior::None);
        };
        let expected = self.request_mac(key);
        if !bool::from(stored.request_hash.as_slice().ct_eq(expected.as_slice())) {
            return Ok(Prior::Mismatch);
        }
        let body = self
            .inner
            .kek
            .open(&stored.sealed_body, &aad(&key.principal, &key.key))?;
        Ok(Prior::Replay(Replay {
            status: u16::try_from(stored.status).unwrap_or(200),
            location: stored.location,
            etag: stored.etag,
            body: body.to_vec(),
        }))
    }

    /// Stores the answer of a creation inside its transaction. Another request with the same
    /// key that committed first makes this a conflict: the caller's transaction rolls back.
    pub(crate) async fn remember_answer(
        &self,
        tx: &mut Tx,
        key: &IdempotencyKey,
        answer: &Replay,
        now: i64,
    ) -> Result<(), AdminError> {
        let sealed = self
            .inner
            .kek
            .seal(&answer.body, &aad(&key.principal, &key.key))
            .map_err(ProviderError::from)?;
        let stored = IdempotentResponse {
            request_hash: self.request_mac(key).to_vec(),
            status: i64::from(answer.status),
            location: answer.location.clone(),
            etag: answer.etag.clone(),
            sealed_body: sealed,
            expires_at: now + REPLAY_WINDOW,
        };
        tx.insert_idempotent_response(&key.principal, &key.key, &stored, now)
            .await
            .map_err(|err| match err {
                StoreError::Conflict => AdminError::Conflict(
                    "another request with this Idempotency-Key is being answered; retry".into(),
                ),
                other => other.into(),
            })
    }
}

/// The body of a JSON answer, for [`Replay::body`].
pub fn json_body(value: &impl Serialize) -> Result<Vec<u8>, AdminError> {
    serde_json::to_vec(value).map_err(|_| AdminError::Provider(ProviderError::Encode))
}
