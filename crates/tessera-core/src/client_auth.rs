//! Client authentication, shared by every endpoint a client calls directly: token,
//! and later revocation and introspection (RFC 6749 §2.3, §3.2.1; OIDC Core §9).
//!
//! Enforces: the client exists; a confidential client proves its secret, compared in
//! constant time against the stored digest; a public client (no stored secret) may only
//! name itself. Every failure is answered with the same `invalid_client` and recorded.

use secrecy::ExposeSecret;
use serde_json::json;
use tessera_protocol::client_auth::ClientCredentials;
use tessera_protocol::params::Params;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, Client};

use crate::authorize::audit_context;
use crate::secret::matches_digest;
use crate::{Provider, ProviderError, RequestContext};

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
            Err(err) => return Ok(Err(err)),
        };

        if let Some(client) = self.verify_credentials(&credentials).await? {
            return Ok(Ok(client));
        }

        self.inner
            .store
            .record(&AuditEvent {
                occurred_at: now,
                event_type,
                detail: json!({ "reason": "invalid_client" }),
                ..audit_context(ctx)
            })
            .await?;
        Ok(Err(OAuthError::invalid_client()))
    }

    async fn verify_credentials(
        &self,
        credentials: &ClientCredentials,
    ) -> Result<Option<Client>, ProviderError> {
        let Some(client) = self
            .inner
            .store
            .client(credentials.client_id().as_str())
            .await?
        else {
            return Ok(None);
        };
        let authenticated = match (credentials, &client.secret_hash) {
            (
                ClientCredentials::Basic { secret, .. } | ClientCredentials::Post { secret, .. },
                Some(stored),
            ) => matches_digest(secret.expose_secret(), stored),
            // A public client has no secret to present; a confidential one must present it.
            (ClientCredentials::None { .. }, None) => true,
            _ => false,
        };
        Ok(authenticated.then_some(client))
    }
}
