//! The token endpoint (RFC 6749 §3.2, §4.1.3; OIDC Core §3.1.3).
//!
//! Enforces, each in its own step: client authentication (`client_secret_basic`,
//! `client_secret_post`, or `none` for public clients only); the code is spent atomically,
//! and a second redemption fails and revokes what the first one issued (RFC 6749 §4.1.2);
//! the code was issued to this client and this redirect URI (§4.1.3); the PKCE verifier
//! matches, and a verifier for a code issued without a challenge is refused (RFC 9700
//! §2.1.1, PKCE downgrade). The refresh and client-credentials grants live in their own
//! modules ([`crate::refresh`], [`crate::client_credentials`]) and share [`Provider::mint`].

use serde_json::json;
use tessera_protocol::claims::{at_hash, AccessTokenClaims, IdTokenClaims, RiskClaim, RISK_SCOPE};
use tessera_protocol::params::Params;
use tessera_protocol::pkce::CodeChallenge;
use tessera_protocol::token::{TokenRequest, TokenResponse};
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{
    AccessTokenRecord, AuditEvent, AuthorizationCode, Client, Outcome, Redemption, Tx,
};

use crate::acr::acr_of;
use crate::authorize::audit_context;
use crate::keys::Alg;
use crate::refresh::{new_family_id, offers_refresh};
use crate::risk::{mark, Assessment};
use crate::secret::{digest, RandomSecret};
use crate::{Provider, ProviderError, RequestContext};

/// The `typ` header of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

impl Provider {
    pub async fn token(
        &self,
        authorization: Option<&str>,
        mut params: Params,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<TokenResponse, OAuthError>, ProviderError> {
        let client = match self
            .authenticate_client(
                authorization,
                &mut params,
                now,
                ctx,
                "token.client_authentication",
            )
            .await?
        {
            Ok(client) => client,
            Err(err) => return Ok(Err(err)),
        };

        match TokenRequest::parse(&params) {
            Ok(TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            }) => {
                self.redeem_code(
                    &client,
                    &code,
                    &redirect_uri,
                    code_verifier.as_deref(),
                    now,
                    ctx,
                )
                .await
            }
            Ok(TokenRequest::RefreshToken {
                refresh_token,
                scope,
            }) => self.refresh(&client, &refresh_token, scope, now, ctx).await,
            Ok(TokenRequest::ClientCredentials { scope }) => {
                self.client_credentials(&client, scope, now, ctx).await
            }
            Err(err) => {
                let event = AuditEvent {
                    occurred_at: now,
                    event_type: grant_event_type(params.get("grant_type")),
                    client_id: Some(client.id.clone()),
                    detail: json!({ "reason": "malformed_request", "error": err.code.as_str() }),
                    ..audit_context(ctx)
                };
                self.inner.store.record(&event).await?;
                Ok(Err(err))
            }
        }
    }

    async fn redeem_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<TokenResponse, OAuthError>, ProviderError> {
        let code_hash = digest(code);
        let mut event = AuditEvent {
            occurred_at: now,
            event_type: "token.authorization_code",
            client_id: Some(client.id.clone()),
            ..audit_context(ctx)
        };

        // RFC 6749 §5.2 unauthorized_client: a client registered only for other grants (a
        // service using client_credentials) redeems no codes.
        if !client.allows_grant("authorization_code") {
            event.detail = json!({ "reason": "grant_not_registered" });
            self.inner.store.record(&event).await?;
            return Ok(Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the client is not registered for the authorization_code grant",
            )));
        }

        let mut tx = self.inner.store.begin().await?;

        let grant = match tx.claim_code(&code_hash, now).await? {
            Redemption::Claimed(grant) => grant,
            Redemption::Replayed { user_id, .. } => {
                // RFC 6749 §4.1.2: deny, and revoke the tokens issued for the code.
                let revoked = tx.revoke_tokens_of_code(&code_hash, now).await?;
                event.user_id = Some(user_id);
                event.detail = json!({ "reason": "code_replayed", "revoked_tokens": revoked });
                return self
                    .refuse(
                        tx,
                        &event,
                        OAuthError::invalid_grant("the authorization code was already used"),
                    )
                    .await;
            }
            Redemption::Unknown => {
                event.detail = json!({ "reason": "unknown_or_expired_code" });
                return self
                    .refuse(
                        tx,
                        &event,
                        OAuthError::invalid_grant("the authorization code is invalid or expired"),
                    )
                    .await;
            }
        };
        event.user_id = Some(grant.user_id.clone());
        event.session_id = grant.sid.clone();
        // The redemption carries the score of the login the code came from (issue 6).
        mark(
            &mut event,
            Assessment::from_stored(grant.risk.as_deref()).as_ref(),
        );

        if let Err(reason) = check_binding(&grant, client, redirect_uri, code_verifier) {
            event.detail = json!({ "reason": reason.description });
            return self.refuse(tx, &event, reason).await;
        }

        let user = match tx.user_by_id(&grant.user_id).await? {
            Some(user) if !user.disabled => user,
            _ => {
                event.detail = json!({ "reason": "user_disabled" });
                return self
                    .refuse(
                        tx,
                        &event,
                        OAuthError::invalid_grant("the end-user is no longer active"),
                    )
                    .await;
            }
        };

        // RFC 6749 §6 and OIDC Core §11: a refresh token when the grant asked for offline
        // access or the client is registered for the refresh_token grant.
        let family = offers_refresh(client, &grant.scope).then(new_family_id);
        let facts = Grant {
            user_id: &user.id,
            scope: &grant.scope,
            auth_time: grant.auth_time,
            amr: &grant.amr,
            sid: grant.sid.as_deref(),
            nonce: grant.nonce.as_deref(),
            risk: grant.risk.as_deref(),
        };
        let mut response = self
            .mint(
                &mut tx,
                client,
                &facts,
                Some(&code_hash),
                family.as_deref(),
                now,
            )
            .await?;
        if let Some(family) = &family {
            let refresh = self
                .issue_refresh_token(
                    &mut tx,
                    client,
                    &facts,
                    family,
                    now + client.refresh_token_ttl,
                    now,
                )
                .await?;
            response.refresh_token = Some(refresh.expose().to_string());
        }
        event.outcome = Outcome::Success;
        event.detail = json!({ "scope": grant.scope, "refresh_token": family.is_some() });
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(Ok(response))
    }

    /// Commits the (spent) code and the audit event, then answers `invalid_grant`.
    pub(crate) async fn refuse(
        &self,
        mut tx: Tx,
        event: &AuditEvent,
        err: OAuthError,
    ) -> Result<Result<TokenResponse, OAuthError>, ProviderError> {
        tx.record(event).await?;
        tx.commit().await?;
        Ok(Err(err))
    }

    /// Signs the access token (and, for `openid`, the ID token) and records the access
    /// token's `jti`, linked to the code and refresh-token family it came from.
    pub(crate) async fn mint(
        &self,
        tx: &mut Tx,
        client: &Client,
        grant: &Grant<'_>,
        code_hash: Option<&[u8]>,
        refresh_family: Option<&str>,
        now: i64,
    ) -> Result<TokenResponse, ProviderError> {
        let settings = &self.inner.settings;
        let issuer = settings.issuer.as_str();
        let (access_token, record) = self.sign_access_token(
            client,
            &AccessGrant {
                user_id: Some(grant.user_id),
                scope: grant.scope,
                auth_time: Some(grant.auth_time),
                amr: Some(grant.amr),
            },
            now,
        )?;
        tx.insert_access_token_in_family(&record, code_hash, refresh_family)
            .await?;
        let exp = record.expires_at;

        let id_token = if grant.scope.split(' ').any(|s| s == "openid") {
            let id_claims = IdTokenClaims {
                iss: issuer.to_string(),
                sub: grant.user_id.to_string(),
                aud: client.id.clone(),
                exp: now + settings.id_token_ttl,
                iat: now,
                auth_time: grant.auth_time,
                nonce: grant.nonce.map(str::to_string),
                at_hash: at_hash(&access_token),
                amr: grant.amr.split(' ').map(str::to_string).collect(),
                // Derived from the grant's `amr` on every issue, refresh included, so the
                // class can never say more than the methods the login used.
                acr: acr_of(grant.amr).as_str().to_string(),
                sid: grant.sid.map(str::to_string),
                azp: client.id.clone(),
                risk: risk_claim(grant),
            };
            let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::Rs256);
            Some(self.inner.keys.sign_at(alg, "JWT", &id_claims, now)?)
        } else {
            None
        };

        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: exp - now,
            scope: grant.scope.to_string(),
            refresh_token: None,
            id_token,
        })
    }

    /// Signs an RFC 9068 access token; returns it with the record the caller stores, so
    /// that it can be revoked by `jti`.
    pub(crate) fn sign_access_token(
        &self,
        client: &Client,
        grant: &AccessGrant<'_>,
        now: i64,
    ) -> Result<(String, AccessTokenRecord), ProviderError> {
        let AccessGrant {
            user_id,
            scope,
            auth_time,
            amr,
        } = *grant;
        let settings = &self.inner.settings;
        let issuer = settings.issuer.as_str();
        let jti = RandomSecret::generate().expose()[..22].to_string();

        // RFC 9068 §2.2: the access token is for Tessera's own resources (userinfo); its
        // `sub` is the person, or the client when it acts on its own behalf.
        let claims = AccessTokenClaims {
            iss: issuer.to_string(),
            sub: user_id.unwrap_or(&client.id).to_string(),
            aud: issuer.to_string(),
            exp: now + client.access_token_ttl.unwrap_or(settings.access_token_ttl),
            iat: now,
            jti: jti.clone(),
            client_id: client.id.clone(),
            scope: scope.to_string(),
            auth_time,
            amr: amr.map(|amr| amr.split(' ').map(str::to_string).collect()),
        };
        let access_token = self
            .inner
            .keys
            .sign_at(Alg::Es256, ACCESS_TOKEN_TYP, &claims, now)?;
        let record = AccessTokenRecord {
            jti,
            client_id: client.id.clone(),
            user_id: user_id.map(str::to_string),
            scope: scope.to_string(),
            issued_at: now,
            expires_at: claims.exp,
        };
        Ok((access_token, record))
    }
}

/// The event type of a token request that did not parse: its grant's, when it names one
/// Tessera supports, so a request missing its `code` is a failed code redemption.
fn grant_event_type(grant_type: Option<&str>) -> &'static str {
    match grant_type {
        Some("authorization_code") => "token.authorization_code",
        Some("refresh_token") => "token.refresh_token",
        Some("client_credentials") => "token.client_credentials",
        _ => "token.request",
    }
}

/// What one access token speaks for.
#[derive(Clone, Copy)]
pub(crate) struct AccessGrant<'a> {
    /// `None` for a token that speaks for the client itself (client credentials).
    pub user_id: Option<&'a str>,
    pub scope: &'a str,
    pub auth_time: Option<i64>,
    /// Space-separated `amr` of the login behind the token; `None` for client credentials.
    pub amr: Option<&'a str>,
}

/// What the tokens of one issue speak for, whichever grant produced them.
pub(crate) struct Grant<'a> {
    pub user_id: &'a str,
    pub scope: &'a str,
    pub auth_time: i64,
    pub amr: &'a str,
    pub sid: Option<&'a str>,
    /// Only the code grant carries one; OIDC Core §12.2 leaves it out on refresh.
    pub nonce: Option<&'a str>,
    /// The stored risk assessment of the login behind the grant, if it was scored.
    pub risk: Option<&'a str>,
}

/// The `urn:tessera:risk` claim of an ID token: the login's assessment, only when the grant's
/// scope holds [`RISK_SCOPE`] (which the client had to be registered for and, unless it is
/// first-party, the person consented to) and the login was scored.
fn risk_claim(grant: &Grant<'_>) -> Option<RiskClaim> {
    if !grant.scope.split(' ').any(|scope| scope == RISK_SCOPE) {
        return None;
    }
    let assessment = Assessment::from_stored(grant.risk)?;
    Some(RiskClaim {
        score: assessment.score,
        reasons: assessment
            .reasons
            .iter()
            .map(|signal| signal.as_str().to_string())
            .collect(),
        decision: assessment.decision.as_str().to_string(),
    })
}

/// RFC 6749 §4.1.3 and RFC 7636 §4.6: the code belongs to this client, this redirect URI
/// and this PKCE verifier. Each rule is its own check.
fn check_binding(
    grant: &AuthorizationCode,
    client: &Client,
    redirect_uri: &str,
    code_verifier: Option<&str>,
) -> Result<(), OAuthError> {
    if grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }

    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }

    match (&grant.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) => {
            CodeChallenge::from_stored(challenge.clone()).verify(verifier)?
        }
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent for a code issued without PKCE",
            ))
        }
        (None, None) => {}
    }

    Ok(())
}
