//! Client authentication, shared by every endpoint a client calls directly: token,
//! and later revocation and introspection (RFC 6749 §2.3, §3.2.1; OIDC Core §9).
//!
//! Enforces: the client exists; it uses the method it registered
//! (`token_endpoint_auth_method`, RFC 7591 §2), so a `private_key_jwt` client can never
//! fall back to a secret, nor a confidential client to `none`; a secret is compared in
//! constant time against the stored digest, or against the digest of the secret a rotation
//! replaced until the grace period the admin chose ends; an assertion passes
//! [`crate::client_assertion`]. Every failure is answered with the same `invalid_client`
//! and recorded with its reason. A secret or an assertion is charged to the client's and
//! the address's throttle counters before it is checked ([`crate::throttle`]); while their
//! delay holds, the client gets `invalid_client` with 429 and `Retry-After`, unchecked.

use secrecy::ExposeSecret;
use serde_json::json;
use tessera_protocol::client_auth::ClientCredentials;
use tessera_protocol::params::Params;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, Client};

use crate::authorize::audit_context;
use crate::secret::matches_digest;
use crate::throttle::Subject;
use crate::{Provider, ProviderError, RequestContext};

/// The registered methods (RFC 7591 §2) and what a client registered for each may present.
pub mod methods {
    /// Either secret method: Tessera has always accepted both for a secret client.
    pub const CLIENT_SECRET_BASIC: &str = "client_secret_basic";
    pub const PRIVATE_KEY_JWT: &str = "private_key_jwt";
    pub const NONE: &str = "none";
}

impl Provider {
    /// Reads and checks the client's credentials; takes the secret out of `params`.
    ///
    /// `event_type` names the endpoint in the audit event written on failure.
    pub async fn authenticate_client(
        &self,
        authorization: Option<&str>,
        params: &mut Params,
        now: i64,
        ctx: &RequestContext,
        event_type: &'static str,
    ) -> Result<Result<Client, OAuthError>, ProviderError> {
        let credentials = match ClientCredentials::from_request(authorization, params) {
            Ok(credentials) => credentials,
            Err(err) => {
                // No client can be named: the credentials did not parse.
                let event = AuditEvent {
                    occurred_at: now,
                    event_type,
                    detail: json!({ "reason": "malformed_credentials", "error": err.code.as_str() }),
                    ..audit_context(ctx)
                };
                self.inner.store.record(&event).await?;
                return Ok(Err(err));
            }
        };

        // NIST SP 800-63B §5.2.2: while the client's or the address's delay holds, nothing
        // is checked. A public client presents nothing to guess. Failures are charged after
        // the check (see `Provider::client_delay` for why not before).
        let unblocked = match credentials {
            ClientCredentials::None { .. } => None,
            _ => match self
                .client_delay(credentials.client_id().as_str(), ctx, now)
                .await?
            {
                Ok(unblocked) => Some(unblocked),
                Err(throttled) => {
                    let detail = throttled.detail();
                    self.record_client_failure(&credentials, detail, now, ctx, event_type)
                        .await?;
                    return Ok(Err(throttled.oauth_error()));
                }
            },
        };

        let reason = match self.verify_credentials(&credentials, now).await? {
            Ok(client) => {
                if let Some(unblocked) = unblocked {
                    unblocked.succeeded(&self.inner.store).await?;
                }
                return Ok(Ok(client));
            }
            Err(reason) => reason,
        };

        // The failure counts against the client and the address; the answer is the same
        // whether or not this charge starts a delay.
        if unblocked.is_some() {
            let subject = Subject::Client(credentials.client_id().as_str());
            let _ = self.take_attempt(subject, ctx, now).await?;
        }

        let detail = json!({ "reason": "invalid_client", "cause": reason });
        self.record_client_failure(&credentials, detail, now, ctx, event_type)
            .await?;
        Ok(Err(OAuthError::invalid_client()))
    }

    /// Records a refused client authentication.
    async fn record_client_failure(
        &self,
        credentials: &ClientCredentials,
        detail: serde_json::Value,
        now: i64,
        ctx: &RequestContext,
        event_type: &'static str,
    ) -> Result<(), ProviderError> {
        self.inner
            .store
            .record(&AuditEvent {
                occurred_at: now,
                event_type,
                client_id: Some(credentials.client_id().to_string()),
                detail,
                ..audit_context(ctx)
            })
            .await?;
        Ok(())
    }

    async fn verify_credentials(
        &self,
        credentials: &ClientCredentials,
        now: i64,
    ) -> Result<Result<Client, &'static str>, ProviderError> {
        let Some(client) = self
            .inner
            .store
            .client(credentials.client_id().as_str())
            .await?
        else {
            return Ok(Err("unknown_client"));
        };

        // RFC 7591 §2: the client uses the method it registered, and no other.
        if !uses_registered_method(credentials, &client) {
            return Ok(Err("method_not_registered"));
        }

        let verdict = match (credentials, &client.secret_hash) {
            (
                ClientCredentials::Basic { secret, .. } | ClientCredentials::Post { secret, .. },
                Some(stored),
            ) => secret_verdict(&client, secret.expose_secret(), stored, now),
            // A public client has no secret to present.
            (ClientCredentials::None { .. }, None) => Ok(()),
            (ClientCredentials::PrivateKeyJwt { assertion, .. }, _) => {
                self.verify_client_assertion(&client, assertion.expose_secret(), now)
                    .await?
            }
            _ => Err("no_credentials"),
        };
        Ok(verdict.map(|()| client))
    }
}

/// A presented secret against the current one and, during the grace period a rotation
/// chose, the one it replaced. Both digests are compared in constant time, and both
/// comparisons always run, so the answer's timing tells nothing about which one matched.
fn secret_verdict(
    client: &Client,
    presented: &str,
    current: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let is_current = matches_digest(presented, current);

    // The replaced secret counts only before its expiry ([`Client::previous_secret_at`]).
    let is_previous = client
        .previous_secret_at(now)
        .is_some_and(|previous| matches_digest(presented, previous));

    if is_current | is_previous {
        Ok(())
    } else {
        Err("secret_mismatch")
    }
}

/// Whether the presented credentials are of the kind the client registered.
fn uses_registered_method(credentials: &ClientCredentials, client: &Client) -> bool {
    match client.token_endpoint_auth_method.as_str() {
        methods::PRIVATE_KEY_JWT => matches!(credentials, ClientCredentials::PrivateKeyJwt { .. }),
        methods::NONE => matches!(credentials, ClientCredentials::None { .. }),
        _ => matches!(
            credentials,
            ClientCredentials::Basic { .. } | ClientCredentials::Post { .. }
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use tessera_store::Client;

    use super::secret_verdict;
    use crate::secret::digest;

    fn rotated(expires_at: i64) -> Client {
        Client {
            id: "app".into(),
            name: "App".into(),
            secret_hash: Some(digest("new-secret").to_vec()),
            redirect_uris: vec![],
            allowed_scope: "openid".into(),
            id_token_alg: "RS256".into(),
            first_party: false,
            grant_types: vec!["client_credentials".into()],
            jwks: None,
            jwks_uri: None,
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            refresh_token_ttl: 100,
            refresh_token_idle_ttl: 10,
            token_endpoint_auth_method: "client_secret_basic".into(),
            mfa: "default".into(),
            access_token_ttl: None,
            previous_secret_hash: Some(digest("old-secret").to_vec()),
            previous_secret_expires_at: Some(expires_at),
            version: 2,
            created_at: 0,
            updated_at: Some(0),
        }
    }

    /// The replaced secret works until the end of its grace period, and from then on never.
    #[test]
    fn the_previous_secret_is_accepted_until_it_expires() {
        let client = rotated(1000);
        let current = client.secret_hash.clone().unwrap();
        assert_eq!(
            secret_verdict(&client, "new-secret", &current, 5000),
            Ok(())
        );
        assert_eq!(secret_verdict(&client, "old-secret", &current, 999), Ok(()));
        assert_eq!(
            secret_verdict(&client, "old-secret", &current, 1000),
            Err("secret_mismatch")
        );
        assert_eq!(
            secret_verdict(&client, "other", &current, 10),
            Err("secret_mismatch")
        );
    }
}
