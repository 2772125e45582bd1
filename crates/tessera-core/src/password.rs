//! Password hashing with argon2id, off the async runtime and bounded.
//!
//! Parameters are OWASP's recommended minimum for argon2id (19 MiB, 2 passes, 1 lane).
//! Each hash runs on tokio's blocking pool behind a semaphore, so a burst of logins queues
//! instead of consuming every core and every megabyte: the other endpoints keep serving.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed")]
    Hash,
    #[error("the hashing pool is shut down")]
    Pool,
}

/// Hashes and verifies passwords on a bounded pool.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the user does not exist so that
    /// unknown users and wrong passwords take the same time.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    // The constants are valid argon2 parameters; `Params::new` only fails outside its ranges.
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// NIST SP 800-63B §5.1.1.2: a password is normalised (NFKC) before it is hashed, so that
/// the same password typed with full-width or composed characters still matches, and the
/// length rules count what is hashed.
fn normalised(password: &str) -> Zeroizing<String> {
    Zeroizing::new(password.nfkc().collect())
}

fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(normalised(password).as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hash)
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(normalised(password).as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

impl PasswordHasher {
    /// `concurrency` is the number of hashes allowed to run at once.
    pub fn new(concurrency: usize) -> Result<Self, PasswordError> {
        let dummy = crate::secret::RandomSecret::generate();
        let dummy_hash = hash_blocking(dummy.expose())?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Pool)?;
        tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret()))
            .await
            .map_err(|_| PasswordError::Pool)?
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is none,
    /// and answers `false` in that case whatever the password.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let matched =
            tokio::task::spawn_blocking(move || verify_blocking(password.expose_secret(), &phc))
                .await
                .unwrap_or(false);
        known && matched
    }
}

#[cfg(test)]
mod tests;
