//! Clients through the admin API: register, read, list, change, remove, rotate a secret.
//!
//! Registration follows the rules of [`crate::accounts::registration`], shared with the
//! command line. On top of them this module enforces:
//! 1. no escalation: a caller registers a client for an admin scope only if it holds that
//!    scope itself (issue 5, "an admin cannot grant scopes they do not hold");
//! 2. no escalation through a client that already holds rights: changing a client, or
//!    taking a new secret for it, needs every admin scope it is registered for, before and
//!    after the change, since its secret or keys are its rights;
//! 3. an update never changes a client's type or how it authenticates;
//! 4. only a client that authenticates with a secret has one to rotate (409 otherwise);
//!    the replaced secret stays valid for the grace period the caller chose, at most
//!    [`MAX_GRACE_PERIOD`];
//! 5. removing a client removes everything issued to it (codes, access and refresh tokens,
//!    consents), so that nothing it was given outlives it; the audit trail keeps its id.
//!    Removing needs every admin scope the client holds (rule 2): a lesser admin could
//!    otherwise cut every greater one off the API by removing the client they log in through;
//! 6. a caller cannot remove the client its own token was issued to, nor change that client's
//!    scope or grant types (409): the call would end or shrink the caller's own access
//!    halfway, and another admin client can make the change deliberately.
//!
//! Every change and its audit event are written in one transaction; updates compare and
//! set the row's version (`If-Match`).

mod view;

use serde_json::json;
use tessera_protocol::admin::{
    etag, AdminScope, ClientList, ClientListQuery, ClientPatch, ClientRegistration, ClientType,
    ClientView, ClientWithSecret, SecretRotationRequest, MAX_GRACE_PERIOD, PREFIX,
};
use tessera_store::{Client, Outcome, PreviousSecret, Tx};

use super::idempotency::{json_body, IdempotencyKey, Replay};
use super::{AdminError, AdminPrincipal};
use crate::accounts::registration::{self, NewClientRequest, Registration};
use crate::client_auth::methods;
use crate::secret::RandomSecret;
use crate::{Provider, RequestContext};

/// The audit target of a client.
fn target(client_id: &str) -> serde_json::Value {
    json!({ "client_id": client_id })
}

/// Rules 1 and 2: every admin scope in `scopes` must be one the caller holds.
fn check_escalation(principal: &AdminPrincipal, scopes: &[&str]) -> Result<(), AdminError> {
    let lacking: Vec<&str> = scopes
        .iter()
        .flat_map(|scope| scope.split(' '))
        .filter_map(AdminScope::parse)
        .filter(|scope| !principal.holds(*scope))
        .map(AdminScope::as_str)
        .collect();
    if lacking.is_empty() {
        return Ok(());
    }
    Err(AdminError::Escalation(format!(
        "the client would hold admin scopes you do not hold: {}",
        lacking.join(", ")
    )))
}

/// Rule 6's refusal.
fn own_client(what: &str) -> AdminError {
    AdminError::Conflict(format!(
        "your token was issued to this client: use another admin client to {what}"
    ))
}

/// The registration's rules, and rule 1.
fn check_registration(
    principal: &AdminPrincipal,
    request: &NewClientRequest<'_>,
) -> Result<Registration, AdminError> {
    let registration = registration::validate(request).map_err(AdminError::Invalid)?;
    check_escalation(principal, &[&registration.scope.to_string()])?;
    Ok(registration)
}

/// The registration `body` as the shared validator takes it; `jwks` is its JWK set as text.
fn request_of<'a>(body: &'a ClientRegistration, jwks: Option<&'a str>) -> NewClientRequest<'a> {
    NewClientRequest {
        name: &body.name,
        redirect_uris: &body.redirect_uris,
        public: body.client_type == ClientType::Public,
        first_party: body.first_party,
        id_token_alg: &body.id_token_signed_response_alg,
        scope: &body.scope,
        grant_types: &body.grant_types,
        post_logout_redirect_uris: &body.post_logout_redirect_uris,
        backchannel_logout_uri: body.backchannel_logout_uri.as_deref(),
        jwks,
        jwks_uri: body.jwks_uri.as_deref(),
        mfa: view::policy_of(body.mfa),
        refresh_token_ttl: body.refresh_token_ttl,
        refresh_token_idle_ttl: body.refresh_token_idle_ttl,
        access_token_ttl: body.access_token_ttl,
    }
}

/// Rule 3: the patched registration authenticates as the client does now.
fn check_same_method(
    client: &Client,
    registration: &Registration,
    patch: &ClientPatch,
) -> Result<(), AdminError> {
    if registration.auth_method == client.token_endpoint_auth_method {
        return Ok(());
    }
    let field = if patch.jwks.is_some() {
        "/jwks"
    } else {
        "/jwks_uri"
    };
    Err(AdminError::invalid(
        field,
        format!(
            "would change how the client authenticates (it uses {}); register a new client \
             instead",
            client.token_endpoint_auth_method
        ),
    ))
}

/// Rule 4: the digest of the client's secret, if it authenticates with one.
fn secret_of(client: &Client) -> Result<Vec<u8>, AdminError> {
    match (
        &client.secret_hash,
        client.token_endpoint_auth_method.as_str(),
    ) {
        (Some(hash), methods::CLIENT_SECRET_BASIC) => Ok(hash.clone()),
        _ => Err(AdminError::Conflict(format!(
            "the client authenticates with {} and has no secret to rotate",
            client.token_endpoint_auth_method
        ))),
    }
}

/// The client `id` as it is inside `tx`, if `if_match` accepts its version.
async fn current(
    tx: &mut Tx,
    id: &str,
    if_match: impl Fn(i64) -> bool,
) -> Result<Client, AdminError> {
    let client = tx.client(id).await?.ok_or(AdminError::NotFound)?;
    if !if_match(client.version) {
        return Err(AdminError::VersionMismatch);
    }
    Ok(client)
}

impl Provider {
    /// `POST /clients`: the answer (201, `Location`, `ETag`, the client and its secret),
    /// stored under `key` in the same transaction when the caller sent one.
    pub async fn admin_register_client(
        &self,
        principal: &AdminPrincipal,
        body: &ClientRegistration,
        key: Option<&IdempotencyKey>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Replay, AdminError> {
        let jwks = body.jwks.as_ref().map(serde_json::Value::to_string);
        let request = request_of(body, jwks.as_deref());
        let registration = check_registration(principal, &request)?;

        let mut tx = self.inner.store.begin().await?;
        let created = registration::insert(&mut tx, &request, &registration, now).await?;
        let client = tx
            .client(&created.client_id)
            .await?
            .ok_or(AdminError::NotFound)?;
        let shown = ClientWithSecret {
            client: view::view(&client, now),
            client_secret: created
                .client_secret
                .as_ref()
                .map(|s| s.expose().to_string()),
        };
        let answer = Replay {
            status: 201,
            location: Some(format!("{PREFIX}/clients/{}", client.id)),
            etag: Some(etag(client.version)),
            body: json_body(&shown)?,
        };
        if let Some(key) = key {
            self.remember_answer(&mut tx, key, &answer, now).await?;
        }
        let mut event = principal.event(
            "admin.client.create",
            Outcome::Success,
            target(&client.id),
            now,
            ctx,
        );
        event.detail["auth_method"] = json!(registration.auth_method);
        event.detail["scope"] = json!(client.allowed_scope);
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// `GET /clients/{id}`.
    pub async fn admin_client(&self, id: &str, now: i64) -> Result<ClientView, AdminError> {
        let client = self
            .inner
            .store
            .client(id)
            .await?
            .ok_or(AdminError::NotFound)?;
        Ok(view::view(&client, now))
    }

    /// `GET /clients`: a page in order of id.
    pub async fn admin_clients(
        &self,
        query: &ClientListQuery,
        now: i64,
    ) -> Result<ClientList, AdminError> {
        let page = view::page(query).map_err(AdminError::Invalid)?;
        // One more than asked tells whether another page follows.
        let mut clients = self
            .inner
            .store
            .clients_page(page.after.as_deref(), page.q.as_deref(), page.limit + 1)
            .await?;
        let more = clients.len() as i64 > page.limit;
        clients.truncate(usize::try_from(page.limit).unwrap_or(0));
        let next_cursor = clients
            .last()
            .filter(|_| more)
            .map(|last| view::cursor_after(&last.id));
        Ok(ClientList {
            items: clients.iter().map(|c| view::view(c, now)).collect(),
            next_cursor,
        })
    }

    /// `PATCH /clients/{id}`: merges `patch` and validates the result as a registration.
    pub async fn admin_update_client(
        &self,
        principal: &AdminPrincipal,
        id: &str,
        if_match: impl Fn(i64) -> bool,
        patch: &ClientPatch,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<ClientView, AdminError> {
        let mut tx = self.inner.store.begin().await?;
        let client = current(&mut tx, id, if_match).await?;

        let mut errors = Vec::new();
        let merged = view::merge(&client, patch, &mut errors);
        let request = merged.request();
        let registration = match registration::validate(&request) {
            Ok(registration) if errors.is_empty() => registration,
            Ok(_) => return Err(AdminError::Invalid(errors)),
            Err(more) => {
                errors.extend(more);
                return Err(AdminError::Invalid(errors));
            }
        };

        check_same_method(&client, &registration, patch)?;

        // Rule 6.
        let own = client.id == principal.client_id();
        let scope_changes = registration.scope.to_string() != client.allowed_scope;
        if own && (scope_changes || request.grant_types != client.grant_types.as_slice()) {
            return Err(own_client("change its scope or grant types"));
        }

        // Rule 2.
        let scope = registration.scope.to_string();
        check_escalation(principal, &[&client.allowed_scope, &scope])?;

        let changed = registration::stored(&client.id, &request, &registration, &scope, None);
        if !tx.update_client(&changed, client.version, now).await? {
            return Err(AdminError::VersionMismatch);
        }
        let updated = tx.client(id).await?.ok_or(AdminError::NotFound)?;
        let event = principal.event(
            "admin.client.update",
            Outcome::Success,
            target(id),
            now,
            ctx,
        );
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(view::view(&updated, now))
    }

    /// `DELETE /clients/{id}` (rule 5).
    pub async fn admin_delete_client(
        &self,
        principal: &AdminPrincipal,
        id: &str,
        if_match: impl Fn(i64) -> bool,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(), AdminError> {
        let mut tx = self.inner.store.begin().await?;
        let client = current(&mut tx, id, if_match).await?;

        // Rules 2 and 6.
        check_escalation(principal, &[&client.allowed_scope])?;
        if client.id == principal.client_id() {
            return Err(own_client("remove it"));
        }

        let Some(removed) = tx.delete_client(id, client.version).await? else {
            return Err(AdminError::VersionMismatch);
        };
        let mut event = principal.event(
            "admin.client.delete",
            Outcome::Success,
            target(id),
            now,
            ctx,
        );
        event.detail["removed"] = json!({
            "access_tokens": removed.access_tokens,
            "refresh_tokens": removed.refresh_tokens,
            "authorization_codes": removed.codes,
            "consents": removed.consents,
        });
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /clients/{id}/secret` (rules 2 and 4): a new secret, shown once.
    pub async fn admin_rotate_client_secret(
        &self,
        principal: &AdminPrincipal,
        id: &str,
        if_match: impl Fn(i64) -> bool,
        body: &SecretRotationRequest,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<ClientWithSecret, AdminError> {
        let grace = body.grace_period_seconds;
        if !(0..=MAX_GRACE_PERIOD).contains(&grace) {
            return Err(AdminError::invalid(
                "/grace_period_seconds",
                "must be from 0 to 2592000 seconds (30 days)",
            ));
        }

        let mut tx = self.inner.store.begin().await?;
        let client = current(&mut tx, id, if_match).await?;
        check_escalation(principal, &[&client.allowed_scope])?;

        let old_hash = secret_of(&client)?;

        let secret = RandomSecret::generate();
        let previous = (grace > 0).then_some(PreviousSecret {
            hash: &old_hash,
            expires_at: now + grace,
        });
        let rotated = tx
            .rotate_client_secret(id, client.version, &secret.digest(), previous, now)
            .await?;
        if !rotated {
            return Err(AdminError::VersionMismatch);
        }
        let updated = tx.client(id).await?.ok_or(AdminError::NotFound)?;
        let mut event = principal.event(
            "admin.client.rotate_secret",
            Outcome::Success,
            target(id),
            now,
            ctx,
        );
        event.detail["grace_period_seconds"] = json!(grace);
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(ClientWithSecret {
            client: view::view(&updated, now),
            client_secret: Some(secret.expose().to_string()),
        })
    }
}
