//! Retention: the oldest events are deleted once they are `audit_retention_days` old.
//!
//! A purge always stops at a checkpoint and keeps that checkpoint, so the first event that
//! remains names as its predecessor the head hash of a signed checkpoint, and `audit verify`
//! still checks everything kept. Each batch records an `audit.purge` event, which is sealed
//! like any other. Events the webhook has not yet delivered are kept.

use serde_json::json;
use tessera_store::{AuditEvent, Outcome};

use super::seal::CHECKPOINT_MAX_EVENTS;
use crate::{Provider, ProviderError};

/// Positions a batch may span: two checkpoint intervals, so that one always falls inside.
const PURGE_SPAN: i64 = 2 * CHECKPOINT_MAX_EVENTS;

const DAY: i64 = 24 * 3600;

impl Provider {
    /// Deletes, in batches, the events of checkpoints made before `now` less the retention;
    /// returns how many. Does nothing when retention is off (0).
    pub async fn purge_audit_trail(&self, now: i64) -> Result<u64, ProviderError> {
        let days = self.inner.settings.audit.retention_days;
        if days == 0 {
            return Ok(0);
        }
        let cutoff = now.saturating_sub(i64::from(days).saturating_mul(DAY));
        let store = &self.inner.store;
        let owed_from = match self.inner.settings.audit.webhook {
            Some(_) => store.audit_webhook_cursor().await?.delivered_seq,
            None => i64::MAX,
        };

        let mut removed = 0;
        while let Some(first) = store.first_sealed_audit_seq().await? {
            let limit = owed_from.min(first.saturating_add(PURGE_SPAN - 1));
            let Some(anchor) = store.audit_checkpoint_before(cutoff, limit).await? else {
                break;
            };
            if anchor.seq < first {
                break;
            }

            let mut tx = store.begin().await?;
            let count = tx.purge_audit_events_through(anchor.seq).await?;
            tx.record(&AuditEvent {
                occurred_at: now,
                event_type: "audit.purge",
                outcome: Outcome::Success,
                detail: json!({ "through_seq": anchor.seq, "events": count }),
                ..AuditEvent::default()
            })
            .await?;
            tx.commit().await?;
            removed += count;
            // The sealer's witness may name a position purged just now, lawfully.
            if let Ok(mut witness) = self.inner.audit_witness.lock() {
                if witness.as_ref().is_some_and(|(seq, _)| *seq <= anchor.seq) {
                    *witness = None;
                }
            }
        }
        Ok(removed)
    }
}
