//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): logout tokens, and the
//! delivery of the notifications queued by [`crate::logout`].
//!
//! Delivery is at least once, from an outbox: each notification is claimed with a lease
//! (a conditional update of its `next_attempt_at`), so several instances never post the
//! same one at once; posted through [`crate::outbound`], several at once; marked delivered on 200 or 204
//! (§2.8); otherwise retried with exponential backoff, and abandoned with an audit event
//! after `logout_max_attempts`. Each attempt carries a freshly signed token with the same
//! `jti`: relying parties check `exp` (§2.6 step 5), and may drop a repeated `jti`.

use std::time::Duration;

use serde_json::json;
use tessera_protocol::client_assertion::unverified_claims;
use tessera_protocol::logout::{LogoutTokenClaims, LOGOUT_TOKEN_TYP};
use tessera_store::{AuditEvent, Client, LogoutDelivery, Outcome, StoreError, Tx};
use tokio::task::JoinSet;

use crate::keys::Alg;
use crate::secret::RandomSecret;
use crate::{Provider, ProviderError};

/// Lifetime of a logout token, seconds (§2.4 asks only that `exp` be present; two minutes
/// covers any clock skew the relying party may have).
pub const LOGOUT_TOKEN_TTL: i64 = 120;

/// How long a claimed notification is reserved for the instance posting it, seconds:
/// longer than the outbound timeout, so the lease outlives the attempt.
const LEASE: i64 = 60;

/// Longest wait between two attempts, seconds.
const MAX_BACKOFF: i64 = 3600;

/// Notifications taken per pass.
const BATCH: i64 = 50;

/// Notifications posted at once within a pass.
const CONCURRENT_POSTS: usize = 8;

/// How often delivered notifications and expired records are purged, seconds.
const PURGE_EVERY: i64 = 600;

enum Attempt {
    Delivered,
    /// Worth trying again.
    Failed(&'static str),
    /// Can never succeed.
    Undeliverable(&'static str),
}

/// The outcome of a pass's posts.
#[derive(Default)]
struct Tally {
    delivered: usize,
    first_error: Option<ProviderError>,
}

impl Tally {
    fn add(&mut self, done: Result<Result<bool, ProviderError>, tokio::task::JoinError>) {
        match done {
            Ok(Ok(true)) => self.delivered += 1,
            Ok(Ok(false)) => {}
            Ok(Err(err)) => {
                self.first_error.get_or_insert(err);
            }
            // The notification stays claimed until its lease ends, then is tried again.
            Err(err) => tracing::error!(error = %err, "a back-channel logout post panicked"),
        }
    }

    fn finish(self) -> Result<usize, ProviderError> {
        match self.first_error {
            Some(err) => Err(err),
            None => Ok(self.delivered),
        }
    }
}

/// Logout tokens for the clients that ended sessions served, prepared before the
/// transaction that ends them and queued within it ([`LogoutNotices::queue`]).
#[derive(Debug, Default)]
pub(crate) struct LogoutNotices {
    /// The `sid`s of the sessions that end.
    sids: Vec<String>,
    /// A client id and the token it is sent.
    tokens: Vec<(String, String)>,
}

impl LogoutNotices {
    pub(crate) fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Queues the tokens within `tx`, the transaction that ends their sessions, and forgets
    /// which clients those sessions served.
    pub(crate) async fn queue(&self, tx: &mut Tx, now: i64) -> Result<(), StoreError> {
        for sid in &self.sids {
            tx.forget_session_clients(sid).await?;
        }
        for (client_id, token) in &self.tokens {
            tx.enqueue_logout_delivery(client_id, token, now).await?;
        }
        Ok(())
    }
}

impl Provider {
    /// The logout tokens owed for the sessions with these public `sid`s of `subject`: one
    /// for each client given a code in one of them that registered a back-channel logout
    /// URI (§2.7: the OP notifies every RP the session served).
    pub(crate) async fn logout_notices(
        &self,
        subject: &str,
        sids: Vec<String>,
        now: i64,
    ) -> Result<LogoutNotices, ProviderError> {
        let mut tokens = Vec::new();
        for sid in &sids {
            for client_id in self.inner.store.session_clients(sid).await? {
                let Some(client) = self.inner.store.client(&client_id).await? else {
                    continue;
                };
                if client.backchannel_logout_uri.is_some() {
                    let token = self.new_logout_token(&client, subject, sid, now)?;
                    tokens.push((client.id, token));
                }
            }
        }
        Ok(LogoutNotices { sids, tokens })
    }

    /// A logout token (§2.4) for `client`, signed with the client's ID token algorithm.
    pub(crate) fn new_logout_token(
        &self,
        client: &Client,
        subject: &str,
        sid: &str,
        now: i64,
    ) -> Result<String, ProviderError> {
        let claims = LogoutTokenClaims {
            iss: self.inner.settings.issuer.as_str().to_string(),
            sub: subject.to_string(),
            aud: client.id.clone(),
            iat: now,
            exp: now + LOGOUT_TOKEN_TTL,
            jti: RandomSecret::generate().expose()[..22].to_string(),
            sid: sid.to_string(),
            events: LogoutTokenClaims::events(),
        };
        self.sign_logout_token(client, &claims)
    }

    fn sign_logout_token(
        &self,
        client: &Client,
        claims: &LogoutTokenClaims,
    ) -> Result<String, ProviderError> {
        let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::Rs256);
        Ok(self
            .inner
            .keys
            .sign_at(alg, LOGOUT_TOKEN_TYP, claims, claims.iat)?)
    }

    /// The queued token, signed again with a new `iat` and `exp` and the same `jti`.
    fn refreshed_logout_token(
        &self,
        client: &Client,
        queued: &str,
        now: i64,
    ) -> Result<Option<String>, ProviderError> {
        // The token came from our own database, written by us: its content is trusted.
        let Some(claims) = unverified_claims(queued) else {
            return Ok(None);
        };
        let Ok(mut claims) =
            serde_json::from_value::<LogoutTokenClaims>(serde_json::Value::Object(claims))
        else {
            return Ok(None);
        };
        claims.iat = now;
        claims.exp = now + LOGOUT_TOKEN_TTL;
        self.sign_logout_token(client, &claims).map(Some)
    }

    /// Makes one pass over the due notifications; returns how many were delivered.
    ///
    /// Up to [`CONCURRENT_POSTS`] notifications are posted at once, so that a relying party
    /// that answers slowly (or never, until the timeout) delays no other. `now` chooses what
    /// is due; each attempt reads the clock again, for its lease and for its token's `iat`
    /// and `exp`, so that a token posted late in a pass is not already expired on arrival
    /// (§2.6 step 5). A storage error stops no other post; the first is returned at the end.
    pub async fn deliver_logout_notifications(&self, now: i64) -> Result<usize, ProviderError> {
        let due = self.inner.store.due_logout_deliveries(now, BATCH).await?;
        let mut posts = JoinSet::new();
        let mut tally = Tally::default();
        for delivery in due {
            if posts.len() >= CONCURRENT_POSTS {
                if let Some(done) = posts.join_next().await {
                    tally.add(done);
                }
            }
            let provider = self.clone();
            posts.spawn(async move { provider.deliver_one(&delivery, now).await });
        }
        while let Some(done) = posts.join_next().await {
            tally.add(done);
        }
        tally.finish()
    }

    /// Claims, posts and records one notification; whether it was delivered. `pass_now` is
    /// the pass's time: the clock read here never goes back before it.
    async fn deliver_one(
        &self,
        delivery: &LogoutDelivery,
        pass_now: i64,
    ) -> Result<bool, ProviderError> {
        let clock = || crate::unix_now().max(pass_now);
        let store = &self.inner.store;

        if !store
            .claim_logout_delivery(delivery, clock() + LEASE)
            .await?
        {
            return Ok(false);
        }

        let attempts = delivery.attempts + 1;
        let outcome = self.attempt(delivery, clock()).await?;

        let now = clock();
        match outcome {
            Attempt::Delivered => {
                store
                    .mark_logout_delivered(delivery.id, attempts, now)
                    .await?;
                return Ok(true);
            }
            Attempt::Failed(reason) if attempts >= self.inner.settings.logout_max_attempts => {
                self.abandon(delivery, attempts, reason, now).await?;
            }
            Attempt::Failed(_) => {
                let next = now + self.backoff(attempts);
                store
                    .reschedule_logout_delivery(delivery.id, attempts, next)
                    .await?;
            }
            Attempt::Undeliverable(reason) => {
                self.abandon(delivery, attempts, reason, now).await?;
            }
        }
        Ok(false)
    }

    async fn attempt(&self, delivery: &LogoutDelivery, now: i64) -> Result<Attempt, ProviderError> {
        let Some(client) = self.inner.store.client(&delivery.client_id).await? else {
            return Ok(Attempt::Undeliverable("client_gone"));
        };
        let Some(uri) = &client.backchannel_logout_uri else {
            return Ok(Attempt::Undeliverable("backchannel_logout_uri_removed"));
        };
        let Some(token) = self.refreshed_logout_token(&client, &delivery.logout_token, now)? else {
            return Ok(Attempt::Undeliverable("queued_token_unreadable"));
        };

        // §2.5: a POST with the token as the form parameter `logout_token`.
        let posted = self
            .inner
            .outbound
            .post_form(uri, &[("logout_token", &token)])
            .await;
        Ok(match posted {
            // §2.8: "If the logout succeeded, the RP MUST respond with HTTP 200 OK";
            // 204 is accepted too, as it is commonly sent.
            Ok(200 | 204) => Attempt::Delivered,
            Ok(status) => {
                tracing::warn!(client_id = %client.id, status, "back-channel logout refused");
                Attempt::Failed("http_status")
            }
            Err(err) => {
                tracing::warn!(client_id = %client.id, error = %err, "back-channel logout failed");
                Attempt::Failed(err.cause())
            }
        })
    }

    /// The wait after `attempts` failed attempts: the base, doubled each time, capped.
    fn backoff(&self, attempts: i64) -> i64 {
        let base = self.inner.settings.logout_retry_base.max(1);
        let doublings = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
        base.saturating_mul(1_i64 << doublings).min(MAX_BACKOFF)
    }

    async fn abandon(
        &self,
        delivery: &LogoutDelivery,
        attempts: i64,
        reason: &'static str,
        now: i64,
    ) -> Result<(), ProviderError> {
        let mut tx = self.inner.store.begin().await?;
        tx.abandon_logout_delivery(delivery.id).await?;
        tx.record(&AuditEvent {
            occurred_at: now,
            event_type: "logout.backchannel",
            outcome: Outcome::Failure,
            client_id: Some(delivery.client_id.clone()),
            detail: json!({ "reason": reason, "attempts": attempts }),
            ..AuditEvent::default()
        })
        .await?;
        tx.commit().await?;
        tracing::warn!(client_id = %delivery.client_id, attempts, reason, "back-channel logout abandoned");
        Ok(())
    }
}

/// Delivers due notifications every `every`, forever, and purges what logout no longer
/// needs. Failures are logged and retried on the next tick.
pub async fn delivery_loop(provider: Provider, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    let mut last_purge = 0;
    loop {
        ticker.tick().await;
        let now = crate::unix_now();
        match provider.deliver_logout_notifications(now).await {
            Ok(0) => {}
            Ok(delivered) => tracing::debug!(delivered, "delivered back-channel logouts"),
            Err(err) => tracing::warn!(error = %err, "back-channel logout delivery failed"),
        }
        // The backlog of every instance's outbox is one table: each reports the same number.
        if let Ok(backlog) = provider.store().logout_backlog().await {
            metrics::gauge!("tessera_outbox_backlog", "outbox" => "backchannel_logout")
                .set(backlog as f64);
        }
        if now - last_purge >= PURGE_EVERY {
            last_purge = now;
            if let Err(err) = provider.store().purge_logout_records(now).await {
                tracing::warn!(error = %err, "purging logout records failed");
            }
        }
    }
}
