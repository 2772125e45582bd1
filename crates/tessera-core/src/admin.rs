//! Who may call the admin REST API, and what every admin call shares.
//!
//! Zero trust: each call is verified on its own, and rights are recomputed each time from
//! what the caller holds now, not from what it held when its token was issued.
//!
//! Enforces, in order, for every call ([`Provider::admin_principal`]):
//! 1. the bearer token is one of Tessera's access tokens (RFC 9068 §4) that is still live:
//!    known, unrevoked, unexpired (RFC 6750 §3.1 `invalid_token`, 401);
//! 2. a token that speaks for a person comes from a login with a second factor: its `amr`
//!    holds `mfa` (RFC 8176 §2), else 403;
//! 3. the rights are the token's admin scopes that the holder still holds: a person through
//!    their roles, a service client through its registration (RFC 6749 §3.3), and in both
//!    cases the client the token was issued to must still be registered for them;
//! 4. each endpoint demands its own scope ([`AdminPrincipal::require`], RFC 6750 §3.1
//!    `insufficient_scope`, 403).

pub mod audit;
pub mod clients;
pub mod grants;
pub mod idempotency;
pub mod keys;
pub mod risk;
pub mod roles;
pub mod user_access;
pub mod user_devices;
pub mod user_roles;
pub mod users;

use std::collections::BTreeSet;

use serde_json::json;
use tessera_protocol::admin::{AdminScope, FieldError};
use tessera_protocol::scope::Scope;
use tessera_store::{AuditEvent, Outcome, StoreError, Tx};

use crate::{Provider, ProviderError, RequestContext};

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A person, logged in with a second factor, through the client `client_id`.
    Person { user_id: String, client_id: String },
    /// A service client acting on its own behalf (client credentials, RFC 6749 §4.4).
    Service { client_id: String },
}

/// A verified admin caller and the admin scopes it holds for this call.
#[derive(Clone, Debug)]
pub struct AdminPrincipal {
    pub actor: Actor,
    scopes: BTreeSet<AdminScope>,
}

/// Why a call was refused before reaching its endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminRefusal {
    /// No token, or one that is not a live access token of ours (401).
    InvalidToken,
    /// A person's token from a login without a second factor (403).
    SecondFactorRequired,
    /// The token does not carry the scope (403).
    InsufficientScope(AdminScope),
}

impl AdminPrincipal {
    /// A stable name of the caller, for the audit trail and idempotency records.
    pub fn id(&self) -> String {
        match &self.actor {
            Actor::Person { user_id, .. } => format!("user:{user_id}"),
            Actor::Service { client_id } => format!("client:{client_id}"),
        }
    }

    /// The client the caller's token was issued to.
    pub fn client_id(&self) -> &str {
        match &self.actor {
            Actor::Person { client_id, .. } | Actor::Service { client_id } => client_id,
        }
    }

    pub fn holds(&self, scope: AdminScope) -> bool {
        self.scopes.contains(&scope)
    }

    pub fn scopes(&self) -> impl Iterator<Item = AdminScope> + '_ {
        self.scopes.iter().copied()
    }

    /// Step 4: the endpoint's own scope.
    pub fn require(&self, scope: AdminScope) -> Result<(), AdminRefusal> {
        if self.holds(scope) {
            Ok(())
        } else {
            Err(AdminRefusal::InsufficientScope(scope))
        }
    }

    /// Refuses a change to a person who holds admin rights this caller lacks (403
    /// `Escalation`): only someone holding all of a person's rights may change them. Setting
    /// their password would hand the caller those rights; removing their factors, ending
    /// their sessions, disabling, enabling, deleting or renaming them would let a lesser admin
    /// weaken, lock out or undo a greater one. Read in `tx`, so a role granted meanwhile is
    /// seen. Reading a person needs no more than the read scope.
    pub(crate) async fn must_outrank(
        &self,
        tx: &mut Tx,
        user_id: &str,
        action: &str,
    ) -> Result<(), AdminError> {
        let roles = tx.roles_of(user_id).await?;
        let beyond: Vec<&str> = roles::scopes_of(roles.iter().map(String::as_str))
            .into_iter()
            .filter(|scope| !self.holds(*scope))
            .map(AdminScope::as_str)
            .collect();
        if beyond.is_empty() {
            return Ok(());
        }
        Err(AdminError::Escalation(format!(
            "this person holds admin rights the caller does not ({}), so the caller may not \
             {action}",
            beyond.join(", ")
        )))
    }

    /// The audit event of one admin call: who, which action, on what, with which outcome.
    /// `action` is the event type, e.g. `admin.user.create`; `target` names the resource.
    pub fn event(
        &self,
        action: &'static str,
        outcome: Outcome,
        target: serde_json::Value,
        now: i64,
        ctx: &RequestContext,
    ) -> AuditEvent {
        let (user_id, client_id) = match &self.actor {
            Actor::Person { user_id, client_id } => (Some(user_id.clone()), client_id.clone()),
            Actor::Service { client_id } => (None, client_id.clone()),
        };
        AuditEvent {
            occurred_at: now,
            event_type: action,
            outcome,
            user_id,
            client_id: Some(client_id),
            source_ip: ctx.source_ip.clone(),
            user_agent: ctx.user_agent.clone(),
            request_id: ctx.request_id.clone(),
            detail: json!({ "admin": self.id(), "target": target }),
            ..AuditEvent::default()
        }
    }
}

/// Why an admin operation failed, after the caller was verified.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// 400 naming every offending field.
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// 404.
    #[error("not found")]
    NotFound,
    /// 409, with a client-safe explanation.
    #[error("{0}")]
    Conflict(String),
    /// 412: `If-Match` names a version that is not the current one.
    #[error("the resource changed since it was read")]
    VersionMismatch,
    /// 403: the caller tried to hand out a scope it does not hold itself.
    #[error("{0}")]
    Escalation(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        Self::Provider(ProviderError::Store(err))
    }
}

impl AdminError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl Provider {
    /// Steps 1 to 3: the caller behind `token`, or why it is refused.
    pub async fn admin_principal(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Result<AdminPrincipal, AdminRefusal>, ProviderError> {
        let store = &self.inner.store;

        // Step 1: one of our access tokens, still live.
        let Some(claims) = self.bearer_claims(token, now) else {
            return Ok(Err(AdminRefusal::InvalidToken));
        };
        let Some(record) = store.live_access_token(&claims.jti, now).await? else {
            return Ok(Err(AdminRefusal::InvalidToken));
        };
        if record.client_id != claims.client_id {
            return Ok(Err(AdminRefusal::InvalidToken));
        }
        let Some(client) = store.client(&record.client_id).await? else {
            return Ok(Err(AdminRefusal::InvalidToken));
        };
        let registered = Scope::parse(&client.allowed_scope).unwrap_or_default();
        let token_scopes: BTreeSet<AdminScope> = claims
            .scopes()
            .filter(|s| registered.contains(s))
            .filter_map(AdminScope::parse)
            .collect();

        let (actor, scopes) = match record.user_id {
            Some(user_id) => {
                if user_id != claims.sub {
                    return Ok(Err(AdminRefusal::InvalidToken));
                }
                // A disabled or deleted person's tokens die with the account.
                let live_user = store
                    .user_by_id(&user_id)
                    .await?
                    .is_some_and(|user| !user.disabled);
                if !live_user {
                    return Ok(Err(AdminRefusal::InvalidToken));
                }

                // Step 2: RFC 8176 `mfa`, which Tessera adds whenever two factors were used.
                if !claims.amr.iter().any(|m| m == "mfa") {
                    return Ok(Err(AdminRefusal::SecondFactorRequired));
                }

                // Step 3: what their roles grant now.
                let roles = store.roles_of(&user_id).await?;
                let held = roles::scopes_of(roles.iter().map(String::as_str));
                let scopes = token_scopes.intersection(&held).copied().collect();
                let actor = Actor::Person {
                    user_id,
                    client_id: client.id,
                };
                (actor, scopes)
            }
            None => {
                if claims.sub != client.id {
                    return Ok(Err(AdminRefusal::InvalidToken));
                }
                // A client no longer registered for the grant that issued the token has lost
                // what the token stood for (RFC 6749 §4.4).
                if !client.allows_grant("client_credentials") {
                    return Ok(Err(AdminRefusal::InvalidToken));
                }
                let actor = Actor::Service {
                    client_id: client.id,
                };
                (actor, token_scopes)
            }
        };
        Ok(Ok(AdminPrincipal { actor, scopes }))
    }

    /// The admin scopes among `requested` that the person `user_id` may receive in a token:
    /// those their roles grant. Other scopes pass through untouched. Called when a code is
    /// issued, so a person without roles never holds an admin token at all.
    pub(crate) async fn person_scope(
        &self,
        tx: &mut tessera_store::Tx,
        user_id: &str,
        requested: &Scope,
    ) -> Result<Scope, ProviderError> {
        if !requested.iter().any(AdminScope::is_admin) {
            return Ok(requested.clone());
        }
        let roles = tx.roles_of(user_id).await?;
        let held = roles::scopes_of(roles.iter().map(String::as_str));
        Ok(requested.filter(|s| {
            !AdminScope::is_admin(s) || AdminScope::parse(s).is_some_and(|a| held.contains(&a))
        }))
    }
}
