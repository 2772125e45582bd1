//! `private_key_jwt` client authentication (OIDC Core §9; RFC 7523 §2.2, §3).
//!
//! Enforces, in order: the header's `alg` is asymmetric and allowed (never `none` or
//! HMAC); the signature verifies with a key from the client's registered JWKS, fetched
//! again once when the key id is unknown; the claims pass RFC 7523 §3 (see
//! [`tessera_protocol::client_assertion`]); the `jti` has not been used before, decided
//! atomically by the database. Every refusal is `invalid_client` to the client; the
//! audit trail gets the reason.

use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{JwsVerifier, ES256, PS256, RS256};
use josekit::jwt;
use tessera_protocol::client_assertion::{check_alg, check_claims, AssertionRules};
use tessera_store::Client;

use crate::client_keys::KeySource;
use crate::discovery::paths;
use crate::{Provider, ProviderError};

impl Provider {
    /// Verifies `assertion` for `client`; `Ok(Err(reason))` is a refusal for the audit.
    pub(crate) async fn verify_client_assertion(
        &self,
        client: &Client,
        assertion: &str,
        now: i64,
    ) -> Result<Result<(), &'static str>, ProviderError> {
        // Step 1: the algorithm, read from the header before any key is chosen
        // (RFC 8725 §3.1: the verifier, not the token, decides which algorithms count).
        let Ok(header) = jwt::decode_header(assertion) else {
            return Ok(Err("assertion_malformed"));
        };
        let alg = header
            .claim("alg")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let kid = header
            .claim("kid")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        if let Err(err) = check_alg(alg.as_deref()) {
            return Ok(Err(err.reason()));
        }
        let alg = alg.unwrap_or_default();

        // Step 2: the signature, by a key the client registered (OIDC Core §9).
        let claims = match self
            .verify_with_client_keys(client, assertion, &alg, kid.as_deref(), now)
            .await
        {
            Ok(claims) => claims,
            Err(reason) => return Ok(Err(reason)),
        };

        // Step 3: the claims (RFC 7523 §3).
        let issuer = &self.inner.settings.issuer;
        let token_endpoint = issuer.endpoint(&[paths::TOKEN.trim_start_matches('/')]);
        let rules = AssertionRules {
            client_id: &client.id,
            audiences: [token_endpoint.as_str(), issuer.as_str()],
            now,
        };
        let valid = match check_claims(&claims, &rules) {
            Ok(valid) => valid,
            Err(err) => return Ok(Err(err.reason())),
        };

        // Step 4: single use of the jti (RFC 7523 §3, item 7), until the assertion expires.
        let first_use = self
            .inner
            .store
            .record_assertion_jti(&client.id, &valid.jti, valid.exp, now)
            .await?;
        if !first_use {
            return Ok(Err("assertion_jti_replayed"));
        }

        Ok(Ok(()))
    }

    /// Verifies the signature with the client's keys, refetching a fetched set once when
    /// no key matches; returns the claims.
    async fn verify_with_client_keys(
        &self,
        client: &Client,
        assertion: &str,
        alg: &str,
        kid: Option<&str>,
        now: i64,
    ) -> Result<serde_json::Map<String, serde_json::Value>, &'static str> {
        let (keys, source) = match self.client_keys(client, false, now).await {
            Ok(found) => found,
            Err(err) => {
                let error = error_chain(&err);
                tracing::warn!(client_id = %client.id, %error, "client keys unavailable");
                return Err(err.cause());
            }
        };
        if let Some(claims) = verify_with(&keys, assertion, alg, kid) {
            return Ok(claims);
        }

        // The key may be new: a client that rotated its keys publishes them at jwks_uri.
        if let KeySource::Fetched { fresh: false } = source {
            if let Ok((keys, _)) = self.client_keys(client, true, now).await {
                if let Some(claims) = verify_with(&keys, assertion, alg, kid) {
                    return Ok(claims);
                }
            }
        }
        Err("assertion_signature_invalid")
    }
}

/// The error and its causes, one after another, for the operator's log. Every error in
/// the chain is Tessera's own or a reqwest error stripped of its URL.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Tries each key that may have made the signature: same `kid` when the header names
/// one, meant for signatures, of the header's algorithm when the key names one, and of
/// the key type that algorithm signs with (RFC 7518 §3.1).
///
/// RFC 7523 §3 does not require a `kid`. Without one, every candidate is tried with a
/// verifier that ignores the key's own `kid`: josekit would otherwise refuse any JWS whose
/// header lacks the `kid` of a key that has one.
fn verify_with(
    keys: &JwkSet,
    assertion: &str,
    alg: &str,
    kid: Option<&str>,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    keys.keys()
        .into_iter()
        .filter(|key| kid.is_none() || key.key_id() == kid)
        .filter(|key| key.key_use().is_none_or(|u| u == "sig"))
        .filter(|key| key.algorithm().is_none_or(|a| a == alg))
        .filter(|key| key_type_for(alg) == Some(key.key_type()))
        .find_map(|key| {
            let verifier = verifier_for(alg, key, kid.is_none())?;
            let (payload, _) = jwt::decode_with_verifier(assertion, verifier.as_ref()).ok()?;
            Some(payload.claims_set().clone())
        })
}

/// The `kty` an allowed algorithm's keys have (RFC 7518 §6.1).
fn key_type_for(alg: &str) -> Option<&'static str> {
    match alg {
        "RS256" | "PS256" => Some("RSA"),
        "ES256" => Some("EC"),
        _ => None,
    }
}

/// A verifier for one of the allowed algorithms; any other `alg` has no verifier at all.
/// With `any_kid`, the verifier does not ask the header for the key's `kid`.
fn verifier_for(alg: &str, key: &Jwk, any_kid: bool) -> Option<Box<dyn JwsVerifier>> {
    match alg {
        "RS256" => {
            let mut verifier = RS256.verifier_from_jwk(key).ok()?;
            if any_kid {
                verifier.remove_key_id();
            }
            Some(Box::new(verifier))
        }
        "PS256" => {
            let mut verifier = PS256.verifier_from_jwk(key).ok()?;
            if any_kid {
                verifier.remove_key_id();
            }
            Some(Box::new(verifier))
        }
        "ES256" => {
            let mut verifier = ES256.verifier_from_jwk(key).ok()?;
            if any_kid {
                verifier.remove_key_id();
            }
            Some(Box::new(verifier))
        }
        _ => None,
    }
}
