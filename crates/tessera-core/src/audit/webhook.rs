//! The audit webhook: sealed events posted in chain order, in batches, signed with HMAC,
//! retried with exponential backoff until the receiver answers 2xx.
//!
//! The chain is the outbox (see the store's `audit_webhook`): a batch is the events after
//! the acknowledged position, so an event can neither be lost nor overtaken by a later one,
//! whichever instance sealed it. A batch the receiver may have taken before a failure was
//! noticed (a timeout, a crash) is sent again, whole and in order; receivers drop the
//! positions they already hold.
//!
//! Each post's body is JSON lines ([`super::export::json_line`]), and its
//! [`SIGNATURE_HEADER`] is `t=<unix time>,v1=<hex HMAC-SHA-256 of "<t>.<body>">` under the
//! configured secret: the time inside the MAC lets a receiver refuse replays of old posts.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use tessera_store::WebhookCursor;

use super::chain::hex;
use super::export::json_line;
use crate::{Provider, ProviderError};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "tessera-signature";

/// The body's media type: one JSON object per line.
pub const CONTENT_TYPE: &str = "application/x-ndjson";

/// Events per post.
const BATCH: i64 = 100;

/// How long a claimed batch is reserved for the instance posting it, seconds: longer than
/// the outbound timeout.
const LEASE: i64 = 60;

/// Wait before the first retry, seconds; doubled after each failure up to [`MAX_BACKOFF`].
const RETRY_BASE: i64 = 2;
const MAX_BACKOFF: i64 = 600;

/// Where and how events are posted.
#[derive(Clone, Debug)]
pub struct WebhookTarget {
    pub url: String,
    /// The HMAC key the receiver shares.
    pub secret: SecretString,
}

/// `t=<time>,v1=<hex HMAC-SHA-256(secret, "<time>.<body>")>`.
pub fn signature(secret: &SecretString, time: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length (RFC 2104 §2), so this cannot fail.
    let mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).map(|mut mac| {
        mac.update(time.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        hex(&mac.finalize().into_bytes())
    });
    format!("t={time},v1={}", mac.unwrap_or_default())
}

/// The wait after `attempts` failed attempts.
fn backoff(attempts: i64) -> i64 {
    let doublings = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
    RETRY_BASE
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF)
}

/// What one attempt did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing is owed, or the next attempt is not due, or another instance holds it.
    Idle,
    /// The receiver acknowledged the events through this position.
    Delivered { through: i64 },
    /// The attempt failed; the batch is tried again from this time.
    Failed { retry_at: i64 },
}

impl Provider {
    /// Posts the next batch if one is owed and due at `now`. Without a configured webhook,
    /// does nothing.
    pub async fn deliver_audit_batch(&self, now: i64) -> Result<Delivery, ProviderError> {
        let Some(target) = &self.inner.settings.audit.webhook else {
            return Ok(Delivery::Idle);
        };
        let store = &self.inner.store;
        let cursor = store.audit_webhook_cursor().await?;
        if cursor.next_attempt_at > now {
            return Ok(Delivery::Idle);
        }
        let events = store
            .sealed_audit_events(cursor.delivered_seq, BATCH)
            .await?;
        let Some(through) = events.last().map(|event| event.seq) else {
            return Ok(Delivery::Idle);
        };
        let lease = now + LEASE;
        if !store.claim_audit_webhook(&cursor, lease).await? {
            return Ok(Delivery::Idle);
        }

        let mut body = String::new();
        for event in &events {
            body.push_str(&json_line(event));
            body.push('\n');
        }
        let signed = signature(&target.secret, now, body.as_bytes());
        let posted = self
            .inner
            .outbound
            .post_bytes(
                &target.url,
                CONTENT_TYPE,
                &[(SIGNATURE_HEADER, &signed)],
                body.into_bytes(),
            )
            .await;

        match posted {
            Ok(status) if (200..300).contains(&status) => {
                store
                    .acknowledge_audit_webhook(lease, cursor.delivered_seq, through, now)
                    .await?;
                Ok(Delivery::Delivered { through })
            }
            Ok(status) => {
                tracing::warn!(status, "the audit webhook refused a batch");
                self.retry_later(&cursor, lease, now).await
            }
            Err(err) => {
                tracing::warn!(error = %err, "the audit webhook could not be reached");
                self.retry_later(&cursor, lease, now).await
            }
        }
    }

    async fn retry_later(
        &self,
        cursor: &WebhookCursor,
        lease: i64,
        now: i64,
    ) -> Result<Delivery, ProviderError> {
        let attempts = cursor.attempts + 1;
        let retry_at = now + backoff(attempts);
        self.inner
            .store
            .reschedule_audit_webhook(lease, cursor.delivered_seq, attempts, retry_at)
            .await?;
        Ok(Delivery::Failed { retry_at })
    }

    /// Posts batches until nothing more is owed or due, or one fails; then reports the
    /// backlog. `clock` is read once per batch: a long run after an outage posts many
    /// batches, each of which may wait for the receiver up to the outbound timeout, and each
    /// must carry a fresh signed time (receivers refuse old ones) and hold a lease that runs
    /// from its own start.
    pub async fn deliver_audit_webhook(
        &self,
        clock: impl Fn() -> i64,
    ) -> Result<u64, ProviderError> {
        let mut batches = 0;
        while let Delivery::Delivered { .. } = self.deliver_audit_batch(clock()).await? {
            batches += 1;
        }
        self.report_webhook_backlog().await?;
        Ok(batches)
    }

    /// Sets the `tessera_outbox_backlog` gauge of the webhook: positions sealed but not yet
    /// acknowledged. The chain and the cursor are shared, so every instance reports the
    /// same number.
    async fn report_webhook_backlog(&self) -> Result<(), ProviderError> {
        let store = &self.inner.store;
        let head = store.audit_chain_head().await?.seq;
        let delivered = store.audit_webhook_cursor().await?.delivered_seq;
        let backlog = head.saturating_sub(delivered).max(0);
        metrics::gauge!("tessera_outbox_backlog", "outbox" => "audit_webhook").set(backlog as f64);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
