//! The sealer: gives committed events their place in the chain and checkpoints it.
//!
//! Events are inserted unsealed, so the transactions that record them never wait for one
//! another on the chain. A pass takes the sealing lock, reads unsealed events in id order,
//! links each to the one before, and, when one is due, signs a checkpoint, all in one
//! transaction.
//!
//! Identity ids are handed out when a row is inserted, not when its transaction commits:
//! a transaction that inserted id 7 may commit after one that inserted id 8 was sealed.
//! A pass therefore takes every unsealed event, not those above a high-water mark, so id 7
//! is sealed on the next pass, at the next position. Events younger than [`SEAL_GRACE`] are
//! left for a later pass, which keeps the chain in id order whenever the transactions
//! commit within that time.

use tessera_store::{StoreError, Tx};

use super::chain;
use crate::{Provider, ProviderError};

/// Age in seconds an event must reach before it is sealed.
pub const SEAL_GRACE: i64 = 2;

/// Events sealed per transaction.
pub const SEAL_BATCH: i64 = 500;

/// A checkpoint is written when the last is older than this, in seconds, and the chain has
/// grown since; the events sealed after the last checkpoint are protected by their hashes
/// alone until then.
pub const CHECKPOINT_EVERY: i64 = 60;

/// ... or when this many events were sealed since the last one. Retention purges up to a
/// checkpoint, so this also bounds how many events one purge batch deletes.
pub const CHECKPOINT_MAX_EVENTS: i64 = 1000;

/// The most positions between two checkpoints (or after the last one) that the sealer ever
/// leaves: whether one is due is decided after each batch, so a batch that starts just
/// short of [`CHECKPOINT_MAX_EVENTS`] runs past it by at most one batch. `audit verify`
/// reports a longer stretch.
pub const MAX_EVENTS_BETWEEN_CHECKPOINTS: i64 = CHECKPOINT_MAX_EVENTS + SEAL_BATCH;

/// Whether a pass signs a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoint {
    /// When [`CHECKPOINT_EVERY`] or [`CHECKPOINT_MAX_EVENTS`] says so.
    IfDue,
    /// Whenever the chain grew past the last checkpoint (`tessera audit seal`).
    Now,
}

/// What a pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sealed {
    pub events: u64,
    /// The position of the last sealed event after the pass.
    pub head: i64,
    pub checkpoints: u64,
}

impl Provider {
    /// Refuses to seal, and so to sign a checkpoint, over a chain that no longer holds what
    /// this instance sealed last: the same hash at the same position, at or below the head.
    /// Without this, someone who can write the database (not the key-encryption key) could
    /// delete the checkpoints, rehash the events, and have the next checkpoint vouch for the
    /// rewrite. Other instances only extend the chain, which keeps every earlier position's
    /// hash. Nothing is remembered across a restart: an offline rewrite is `verify`'s to find.
    async fn check_witness(&self, tx: &mut Tx, head_seq: i64) -> Result<(), ProviderError> {
        let remembered = match self.inner.audit_witness.lock() {
            Ok(witness) => witness.clone(),
            Err(_) => None,
        };
        let Some((seq, hash)) = remembered else {
            return Ok(());
        };
        let kept = head_seq >= seq && tx.audit_hash_at(seq).await?.as_deref() == Some(&*hash);
        if kept {
            return Ok(());
        }
        tracing::error!(
            position = seq,
            "the audit chain was rewritten under this server"
        );
        Err(ProviderError::AuditChainRewritten(seq))
    }

    /// Seals every event that occurred at least [`SEAL_GRACE`] seconds before `now`, in
    /// batches. Safe on several instances at once: they take turns on the lock.
    pub async fn seal_audit_trail(
        &self,
        now: i64,
        checkpoint: Checkpoint,
    ) -> Result<Sealed, ProviderError> {
        let mut total = Sealed::default();
        loop {
            let batch = self.seal_batch(now, checkpoint).await?;
            total.events += batch.events;
            total.checkpoints += batch.checkpoints;
            total.head = batch.head;
            if batch.events < SEAL_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    async fn seal_batch(&self, now: i64, checkpoint: Checkpoint) -> Result<Sealed, ProviderError> {
        let mut tx = self.inner.store.begin().await?;
        let head = tx.lock_audit_chain().await?;
        self.check_witness(&mut tx, head.seq).await?;
        check_head_is_the_end(&mut tx, head.seq).await?;
        let events = tx
            .unsealed_audit_events(now - SEAL_GRACE, SEAL_BATCH)
            .await?;

        let mut seq = head.seq;
        let mut prev = head.hash.clone();
        for event in &events {
            seq += 1;
            let hash = chain::link_hash(&prev, event)
                .ok_or(StoreError::Corrupt("audit_chain.head_hash"))?;
            tx.seal_audit_event(event.id, seq, &prev, &hash).await?;
            prev = hash;
        }
        if !events.is_empty() {
            tx.advance_audit_chain(seq, &prev).await?;
        }

        let grown = seq > head.checkpoint_seq;
        let due = match checkpoint {
            Checkpoint::Now => true,
            Checkpoint::IfDue => {
                now - head.checkpointed_at >= CHECKPOINT_EVERY
                    || seq - head.checkpoint_seq >= CHECKPOINT_MAX_EVENTS
            }
        };
        let mut checkpoints = 0;
        if grown && due {
            self.write_checkpoint(&mut tx, seq, &prev, now).await?;
            checkpoints = 1;
        }

        tx.commit().await?;
        if seq > 0 {
            if let Ok(mut witness) = self.inner.audit_witness.lock() {
                *witness = Some((seq, prev));
            }
        }
        Ok(Sealed {
            events: events.len() as u64,
            head: seq,
            checkpoints,
        })
    }
}

/// Sealing gives a position and moves the head in one transaction, so a sealed event past
/// the head means the head was moved back by hand: sealing on would give new events the
/// positions of old ones, and a checkpoint signed now would vouch for the rewrite.
async fn check_head_is_the_end(tx: &mut Tx, head_seq: i64) -> Result<(), ProviderError> {
    if tx
        .audit_hash_at(head_seq.saturating_add(1))
        .await?
        .is_none()
    {
        return Ok(());
    }
    tracing::error!(
        position = head_seq,
        "sealed audit events lie past the chain's head; the head was moved back"
    );
    Err(ProviderError::AuditChainRewritten(head_seq))
}
