//! Signed checkpoints: a JWS by the provider's signing key stating where the chain ended.
//!
//! Hashes alone prove nothing to someone who can rewrite the table: they can recompute
//! every hash after their edit. A checkpoint pins the head hash with a signature that needs
//! a private key, which the database holds only encrypted under the key-encryption key.
//!
//! The verifier needs the public key long after the signing key itself has been deleted
//! (see [`crate::keys::lifecycle`]), so each key that signs a checkpoint is copied to
//! `audit_keys`; the copy is also encrypted under the key-encryption key, with its key id
//! as associated data, so that a key planted in that table by someone without the
//! key-encryption key does not open and vouches for nothing.

use josekit::jwk::Jwk;
use josekit::jws::{JwsVerifier, ES256, RS256};
use josekit::jwt;
use serde::{Deserialize, Serialize};
use tessera_store::{AuditCheckpoint, AuditKey, StoreError, Tx};

use crate::keys::{Alg, KeyEncryptionKey};
use crate::{Provider, ProviderError};

/// The JWS `typ` of a checkpoint, which no other token of Tessera's carries.
pub const CHECKPOINT_TYP: &str = "tessera-audit-checkpoint+jwt";

/// Checkpoints are signed with ES256: about a tenth of RS256's cost.
const CHECKPOINT_ALG: Alg = Alg::Es256;

/// Prefix of the associated data binding an `audit_keys` row to its key id.
const KEY_AAD_PREFIX: &str = "tessera.audit.key:";

/// What a checkpoint states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointClaims {
    pub iss: String,
    /// Position of the last event the checkpoint covers.
    pub seq: i64,
    /// That event's hash (hex).
    pub head: String,
    pub iat: i64,
}

impl Provider {
    /// Signs and stores, within the sealing transaction `tx`, a checkpoint of the chain
    /// ending at `seq` with `head`; keeps a copy of the signing key's public half.
    pub(crate) async fn write_checkpoint(
        &self,
        tx: &mut Tx,
        seq: i64,
        head: &str,
        now: i64,
    ) -> Result<(), ProviderError> {
        let claims = CheckpointClaims {
            iss: self.inner.settings.issuer.as_str().to_string(),
            seq,
            head: head.to_string(),
            iat: now,
        };
        let jws = self
            .inner
            .keys
            .sign_at(CHECKPOINT_ALG, CHECKPOINT_TYP, &claims, now)?;
        let kid = jwt::decode_header(&jws)
            .ok()
            .and_then(|header| {
                header
                    .claim("kid")
                    .and_then(|v| v.as_str().map(str::to_owned))
            })
            .ok_or(StoreError::Corrupt(
                "a checkpoint was signed without a key id",
            ))?;

        if !tx.audit_key_known(&kid).await? {
            let records = self.inner.store.signing_keys().await?;
            let record =
                records
                    .iter()
                    .find(|record| record.kid == kid)
                    .ok_or(StoreError::Corrupt(
                        "the checkpoint's signing key is not stored",
                    ))?;
            let sealed_jwk = self.inner.kek.seal(
                record.public_jwk.as_bytes(),
                format!("{KEY_AAD_PREFIX}{kid}").as_bytes(),
            )?;
            tx.insert_audit_key(&AuditKey {
                kid: kid.clone(),
                public_jwk: record.public_jwk.clone(),
                sealed_jwk,
                created_at: now,
            })
            .await?;
        }

        tx.insert_audit_checkpoint(&AuditCheckpoint {
            seq,
            head_hash: head.to_string(),
            created_at: now,
            jws,
        })
        .await?;
        Ok(())
    }
}

/// A checkpoint key by id: a verifier, or why the stored key vouches for nothing.
type OpenedKey = (String, Result<Box<dyn JwsVerifier>, KeyProblem>);

/// The keys that may have signed checkpoints, each opened with the key-encryption key.
pub struct CheckpointKeys {
    keys: Vec<OpenedKey>,
}

/// Why a stored checkpoint key vouches for nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyProblem {
    /// Its encrypted copy does not open with this key-encryption key, or does not hold
    /// the public key stored beside it: the row was not written by Tessera.
    NotAuthentic,
    /// It is not a public key of an algorithm Tessera signs with.
    Unusable,
}

impl CheckpointKeys {
    pub fn open(stored: &[AuditKey], kek: &KeyEncryptionKey) -> Self {
        let keys = stored
            .iter()
            .map(|key| (key.kid.clone(), verifier(key, kek)))
            .collect();
        Self { keys }
    }

    /// The checkpoint's claims, if its JWS verifies with the authentic key it names.
    pub fn verify(&self, checkpoint: &AuditCheckpoint) -> Result<CheckpointClaims, Forgery> {
        let header = jwt::decode_header(&checkpoint.jws).map_err(|_| Forgery::Malformed)?;
        let kid = header
            .claim("kid")
            .and_then(|v| v.as_str())
            .ok_or(Forgery::UnknownKey)?;
        let verifier = match self.keys.iter().find(|(known, _)| known == kid) {
            None => return Err(Forgery::UnknownKey),
            Some((_, Err(problem))) => return Err(Forgery::Key(*problem)),
            Some((_, Ok(verifier))) => verifier,
        };

        let (payload, header) = jwt::decode_with_verifier(&checkpoint.jws, verifier.as_ref())
            .map_err(|_| Forgery::BadSignature)?;
        if header.token_type() != Some(CHECKPOINT_TYP) {
            return Err(Forgery::Malformed);
        }
        let claims: CheckpointClaims =
            serde_json::from_value(serde_json::Value::Object(payload.claims_set().clone()))
                .map_err(|_| Forgery::Malformed)?;

        // The columns are a convenience for queries; the signed claims are the evidence.
        if claims.seq != checkpoint.seq || claims.head != checkpoint.head_hash {
            return Err(Forgery::ColumnsDiffer);
        }
        Ok(claims)
    }
}

/// Why a checkpoint proves nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgery {
    Malformed,
    UnknownKey,
    Key(KeyProblem),
    BadSignature,
    /// The stored position or head hash differ from what the signature covers.
    ColumnsDiffer,
}

impl Forgery {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "its JWS is malformed",
            Self::UnknownKey => "it names a key that never signed a checkpoint",
            Self::Key(KeyProblem::NotAuthentic) => {
                "its key was not stored by Tessera (it does not open with the key-encryption key)"
            }
            Self::Key(KeyProblem::Unusable) => "its key is not a usable public key",
            Self::BadSignature => "its signature does not verify",
            Self::ColumnsDiffer => "its stored position or hash differ from what was signed",
        }
    }
}

fn verifier(key: &AuditKey, kek: &KeyEncryptionKey) -> Result<Box<dyn JwsVerifier>, KeyProblem> {
    let aad = format!("{KEY_AAD_PREFIX}{}", key.kid);
    let opened = kek
        .open(&key.sealed_jwk, aad.as_bytes())
        .map_err(|_| KeyProblem::NotAuthentic)?;
    if opened.as_slice() != key.public_jwk.as_bytes() {
        return Err(KeyProblem::NotAuthentic);
    }

    let jwk = Jwk::from_bytes(opened.as_slice()).map_err(|_| KeyProblem::Unusable)?;
    match jwk.algorithm().and_then(Alg::parse) {
        Some(Alg::Es256) => ES256
            .verifier_from_jwk(&jwk)
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>)
            .map_err(|_| KeyProblem::Unusable),
        Some(Alg::Rs256) => RS256
            .verifier_from_jwk(&jwk)
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>)
            .map_err(|_| KeyProblem::Unusable),
        None => Err(KeyProblem::Unusable),
    }
}
