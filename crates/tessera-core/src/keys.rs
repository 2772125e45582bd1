//! Signing keys: generation, encryption at rest, JWKS, signing and verification.
//!
//! Private keys exist in clear only in this process's memory. In the database each is the
//! AES-256-GCM encryption of its DER form under the key-encryption key, with the key id as
//! associated data, so a ciphertext cannot be swapped onto another key's row.

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
use tessera_store::{SigningKeyRecord, Store, StoreError};
use zeroize::{Zeroize, Zeroizing};

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

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.as_ref().into())
    }

    /// Returns nonce (12 bytes) followed by the ciphertext and tag.
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyError> {
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

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
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
    signer: Box<dyn JwsSigner>,
    verifier: Box<dyn JwsVerifier>,
}

/// The provider's keys, ready to sign, and the JWKS document prepared once.
pub struct Keyring {
    keys: Vec<LoadedKey>,
    jwks: String,
}

impl Keyring {
    /// Loads the active keys, creating one per algorithm if none exists.
    pub async fn load_or_create(
        store: &Store,
        kek: &KeyEncryptionKey,
        now: i64,
    ) -> Result<Self, KeyError> {
        let mut records = store.active_signing_keys().await?;
        for alg in Alg::ALL {
            if !records.iter().any(|r| r.alg == alg.as_str()) {
                let record = generate(alg, kek, now)?;
                let mut tx = store.begin().await?;
                tx.insert_signing_key(&record).await?;
                tx.commit().await?;
                tracing::info!(kid = %record.kid, alg = alg.as_str(), "generated a signing key");
                records.push(record);
            }
        }
        Self::from_records(&records, kek)
    }

    fn from_records(
        records: &[SigningKeyRecord],
        kek: &KeyEncryptionKey,
    ) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        let mut public = Vec::new();
        for record in records {
            let Some(alg) = Alg::parse(&record.alg) else {
                continue;
            };
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
                signer,
                verifier,
            });
        }
        let jwks = serde_json::json!({ "keys": public }).to_string();
        Ok(Self { keys, jwks })
    }

    /// The JWKS document (RFC 7517 §5): public keys only.
    pub fn jwks_json(&self) -> &str {
        &self.jwks
    }

    /// The newest key for `alg`.
    fn current(&self, alg: Alg) -> Option<&LoadedKey> {
        self.keys.iter().rev().find(|k| k.alg == alg)
    }

    /// Signs `claims` as a JWT with the current key for `alg`.
    pub fn sign(
        &self,
        alg: Alg,
        typ: &str,
        claims: &impl serde::Serialize,
    ) -> Result<String, KeyError> {
        let key = self.current(alg).ok_or(KeyError::Decrypt)?;
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
    /// returning its claims. Claims (expiry, issuer, audience) are the caller's to check.
    pub fn verify(
        &self,
        token: &str,
        alg: Alg,
        typ: &str,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let (payload, header) = jwt::decode_with_verifier_selector(token, |header| {
            let key = header
                .key_id()
                .and_then(|kid| self.keys.iter().find(|k| k.kid == kid && k.alg == alg));
            Ok(key.map(|k| k.verifier.as_ref()))
        })
        .ok()?;
        // RFC 9068 §4: the `typ` header distinguishes access tokens from other JWTs.
        if header.token_type() != Some(typ) {
            return None;
        }
        Some(payload.claims_set().clone())
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
        retired_at: None,
    })
}

#[cfg(test)]
mod tests;
