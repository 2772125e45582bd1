//! Signing keys: generation, encryption at rest, JWKS, signing and verification.
//!
//! Private keys exist in clear only in this process's memory. In the database each is the
//! AES-256-GCM encryption of its DER form under the key-encryption key, with the key id as
//! associated data, so a ciphertext cannot be swapped onto another key's row.
//!
//! A key's life (upcoming, active, retired, removed) is in [`lifecycle`]; creating and
//! retiring keys in the database in [`rotation`]; the snapshot every request reads, swapped
//! when the database changes, in [`SharedKeyring`].

pub mod lifecycle;
mod rotation;
mod shared;

pub use lifecycle::{KeyStatus, Timeline};
pub use rotation::{
    ensure_signing_keys, list, prepare_rotation, purge_removed, rotate, rotate_if_due,
    store_successor, Activation, KeyInfo,
};
pub use shared::SharedKeyring;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use josekit::jwk::alg::ec::EcCurve;
use josekit::jwk::KeyPair;
use josekit::jws::{JwsHeader, JwsSigner, JwsVerifier, ES256, RS256};
use josekit::jwt::{self, JwtPayload};
use rand::rngs::OsRng;
use rand::RngCore;
use tessera_store::{SigningKeyRecord, StoreError};
use zeroize::{Zeroize, Zeroizing};

use crate::published::Published;

/// RSA modulus size for RS256 keys (NIST SP 800-57: 2048 bits is good through 2030).
const RSA_BITS: u32 = 2048;

/// JWS algorithms Tessera signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// Required of every OpenID Provider (OIDC Core §15.1); the default for ID tokens.
    Rs256,
    /// The default for access tokens: about a tenth of RS256's signing cost.
    Es256,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::Rs256, Alg::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key-encryption key must be 32 bytes of base64")]
    BadKek,
    #[error("a signing key could not be decrypted: wrong key-encryption key?")]
    Decrypt,
    #[error("key generation or parsing failed")]
    Jose(#[from] josekit::JoseError),
    #[error("claims must serialize to a JSON object")]
    Claims,
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("no signing key is active for this algorithm")]
    NoSigningKey,
    #[error("another instance rotated the same key at the same time; nothing was changed")]
    ConcurrentRotation,
}

/// The key-encryption key (KEK): 32 bytes, zeroed on drop, never printed.
pub struct KeyEncryptionKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey([REDACTED])")
    }
}

impl KeyEncryptionKey {
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let mut bytes = STANDARD.decode(text.trim()).map_err(|_| KeyError::BadKek)?;
        let result = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::BadKek);
        bytes.zeroize();
        Ok(Self(Zeroizing::new(result?)))
    }

    pub fn generate_base64() -> Zeroizing<String> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Zeroizing::new(STANDARD.encode(bytes.as_ref()))
    }

    /// A second copy, for the provider to keep: it opens keys created after start-up.
    pub(crate) fn duplicate(&self) -> Self {
        Self(Zeroizing::new(*self.0))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.as_ref().into())
    }

    /// Returns nonce (12 bytes) followed by the ciphertext and tag.
    /// HMAC-SHA-256 of `data` under a key derived from this one for `purpose` (itself an
    /// HMAC of the purpose under this key), so that each use has its own key and none of them
    /// is the AES key itself. For digests that must not be recomputable from the database
    /// alone, such as one taken over a request that held a password.
    pub(crate) fn mac(&self, purpose: &[u8], data: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let derive = |key: &[u8], input: &[u8]| -> [u8; 32] {
            // HMAC accepts a key of any length, so `new_from_slice` cannot fail here.
            let mut mac = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
                Ok(mac) => mac,
                Err(_) => return [0; 32],
            };
            mac.update(input);
            mac.finalize().into_bytes().into()
        };
        let subkey = Zeroizing::new(derive(self.0.as_slice(), purpose));
        derive(subkey.as_slice(), data)
    }

    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| KeyError::Decrypt)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    pub(crate) fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if sealed.len() < 12 {
            return Err(KeyError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(12);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
            .map(Zeroizing::new)
            .map_err(|_| KeyError::Decrypt)
    }
}

struct LoadedKey {
    kid: String,
    alg: Alg,
    timeline: Timeline,
    signer: Box<dyn JwsSigner>,
    verifier: Box<dyn JwsVerifier>,
}

/// One snapshot of the provider's keys, ready to sign, and the JWKS document prepared
/// from it. Snapshots are immutable; [`SharedKeyring`] swaps in a new one when the stored
/// keys change.
pub struct Keyring {
    keys: Vec<LoadedKey>,
    retention: i64,
    jwks: Published,
}

impl Keyring {
    /// Opens the keys of `records` that are published at `now` (RFC 7517 §5: the JWKS holds
    /// every key a relying party may meet, upcoming and retired ones included). Removed
    /// keys are left out, so they neither appear in JWKS nor verify anything.
    pub fn from_records(
        records: &[SigningKeyRecord],
        kek: &KeyEncryptionKey,
        now: i64,
        retention: i64,
    ) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        let mut public = Vec::new();
        for record in records {
            let Some(alg) = Alg::parse(&record.alg) else {
                continue;
            };
            let timeline = timeline(record);
            if timeline.is_removed(now, retention) {
                continue;
            }
            let der = kek.open(&record.private_key, record.kid.as_bytes())?;
            let (signer, verifier): (Box<dyn JwsSigner>, Box<dyn JwsVerifier>) = match alg {
                Alg::Rs256 => {
                    let pair = RS256.key_pair_from_der(der.as_slice())?;
                    (
                        Box::new(RS256.signer_from_der(der.as_slice())?),
                        Box::new(RS256.verifier_from_jwk(&pair.to_jwk_public_key())?),
                    )
                }
                Alg::Es256 => {
                    let pair = ES256.key_pair_from_der(der.as_slice())?;
                    (
                        Box::new(ES256.signer_from_der(der.as_slice())?),
                        Box::new(ES256.verifier_from_jwk(&pair.to_jwk_public_key())?),
                    )
                }
            };
            let jwk: serde_json::Value = serde_json::from_str(&record.public_jwk)
                .map_err(|_| KeyError::Store(StoreError::Corrupt("signing_keys.public_jwk")))?;
            public.push(jwk);
            keys.push(LoadedKey {
                kid: record.kid.clone(),
                alg,
                timeline,
                signer,
                verifier,
            });
        }
        let jwks = Published::new(serde_json::json!({ "keys": public }).to_string());
        Ok(Self {
            keys,
            retention,
            jwks,
        })
    }

    /// The JWKS document (RFC 7517 §5): public keys only.
    pub fn jwks(&self) -> &Published {
        &self.jwks
    }

    /// Whether this snapshot holds exactly the published keys of `records` at `now`, with
    /// the same times; if so there is nothing to reload.
    fn matches(&self, records: &[SigningKeyRecord], now: i64) -> bool {
        let mut published = records
            .iter()
            .filter(|record| Alg::parse(&record.alg).is_some())
            .filter(|record| !timeline(record).is_removed(now, self.retention));
        let same = self.keys.iter().all(|key| {
            published
                .next()
                .is_some_and(|record| record.kid == key.kid && timeline(record) == key.timeline)
        });
        same && published.next().is_none()
    }

    /// The key that signs for `alg` at `now` (see [`lifecycle::signer`]).
    fn signer(&self, alg: Alg, now: i64) -> Option<&LoadedKey> {
        let candidates: Vec<&LoadedKey> = self.keys.iter().filter(|k| k.alg == alg).collect();
        let timelines: Vec<Timeline> = candidates.iter().map(|k| k.timeline).collect();
        let index = lifecycle::signer(&timelines, now, self.retention)?;
        candidates.get(index).copied()
    }

    /// Signs `claims` as a JWT with the key that is active for `alg` at `now`.
    pub fn sign_at(
        &self,
        alg: Alg,
        typ: &str,
        claims: &impl serde::Serialize,
        now: i64,
    ) -> Result<String, KeyError> {
        let key = self.signer(alg, now).ok_or(KeyError::NoSigningKey)?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(key.kid.clone());
        let map = match serde_json::to_value(claims) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(KeyError::Claims),
        };
        let payload = JwtPayload::from_map(map)?;
        Ok(jwt::encode_with_signer(
            &payload,
            &header,
            key.signer.as_ref(),
        )?)
    }

    /// Verifies a JWT signed by one of our keys of algorithm `alg` and with header `typ`,
    /// returning its claims. Any published key verifies, upcoming and retired ones too; a
    /// removed key never does. Claims (expiry, issuer, audience) are the caller's to check.
    pub fn verify_at(
        &self,
        token: &str,
        alg: Alg,
        typ: &str,
        now: i64,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let (payload, header) = jwt::decode_with_verifier_selector(token, |header| {
            let key = header
                .key_id()
                .and_then(|kid| self.keys.iter().find(|k| k.kid == kid && k.alg == alg));
            Ok(key.map(|k| k.verifier.as_ref()))
        })
        .ok()?;
        let kid = header.key_id()?;

        // OIDC Core §10.1.1: a key is trusted only while it is published.
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        if key.timeline.is_removed(now, self.retention) {
            return None;
        }

        // RFC 9068 §4: the `typ` header distinguishes access tokens from other JWTs.
        if header.token_type() != Some(typ) {
            return None;
        }
        Some(payload.claims_set().clone())
    }
}

fn timeline(record: &SigningKeyRecord) -> Timeline {
    Timeline {
        activates_at: record.activates_at,
        retired_at: record.retired_at,
        generation: record.generation,
    }
}

/// Generates a key for `alg`, with its private half sealed under the KEK.
pub fn generate(alg: Alg, kek: &KeyEncryptionKey, now: i64) -> Result<SigningKeyRecord, KeyError> {
    let kid = crate::secret::RandomSecret::generate().expose()[..16].to_string();
    let (der, mut jwk) = match alg {
        Alg::Rs256 => {
            let pair = RS256.generate_key_pair(RSA_BITS)?;
            (
                Zeroizing::new(pair.to_der_private_key()),
                pair.to_jwk_public_key(),
            )
        }
        Alg::Es256 => {
            let pair = josekit::jwk::alg::ec::EcKeyPair::generate(EcCurve::P256)?;
            (
                Zeroizing::new(pair.to_der_private_key()),
                pair.to_jwk_public_key(),
            )
        }
    };
    jwk.set_key_id(kid.clone());
    jwk.set_key_use("sig");
    jwk.set_algorithm(alg.as_str());
    Ok(SigningKeyRecord {
        private_key: kek.seal(&der, kid.as_bytes())?,
        public_jwk: serde_json::to_string(jwk.as_ref()).map_err(|_| KeyError::Decrypt)?,
        kid,
        alg: alg.as_str().to_string(),
        created_at: now,
        activates_at: now,
        retired_at: None,
        generation: 1,
    })
}

#[cfg(test)]
mod tests;
