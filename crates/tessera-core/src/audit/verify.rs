//! `tessera audit verify`: walks the chain and its checkpoints and reports every sign that
//! a sealed event was edited, deleted or moved.
//!
//! Each event is checked twice: against its own hash (did its columns change?) and against
//! the event before it (is it still where it was sealed?). A checkpoint, once its signature
//! verifies with an authentic key, vouches for the stored hash at its position, which
//! catches an edit whose author recomputed every hash after it. Events are read a page at a
//! time; only the few events whose link is broken are looked up again at the end, to tell
//! a moved event (its predecessor is elsewhere in the chain) from one whose predecessor was
//! rewritten (its predecessor is nowhere).

use std::collections::BTreeMap;

use tessera_store::{AuditCheckpoint, SealedAuditEvent, Store};

use super::chain;
use super::checkpoint::{CheckpointKeys, Forgery};
use super::seal::MAX_EVENTS_BETWEEN_CHECKPOINTS;
use crate::keys::KeyEncryptionKey;
use crate::ProviderError;

/// Events read per query.
const PAGE: i64 = 1000;

/// One sign of tampering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The event's columns (or its stored hashes) no longer give its hash.
    Edited { seq: i64, id: i64 },
    /// The event's hash was recomputed after an edit: the event after it names a
    /// predecessor that no longer exists.
    Rehashed { seq: i64, id: i64 },
    /// No event holds the positions `from..=to`.
    Deleted { from: i64, to: i64 },
    /// The event at `seq` was sealed right after `after_id`, which is now at `after_seq`.
    Reordered {
        seq: i64,
        id: i64,
        after_id: i64,
        after_seq: i64,
    },
    /// The stored hash at `seq` differs from the one its signed checkpoint states.
    CheckpointMismatch { seq: i64 },
    /// A checkpoint whose signature proves nothing.
    ForgedCheckpoint { seq: i64, why: Forgery },
    /// Events before `first` are gone, and no valid checkpoint at `first - 1` vouches for
    /// the first that remains, as retention would have left.
    Unanchored { first: i64 },
    /// Events before `first` are gone although retention is off.
    PurgedWithoutRetention { first: i64 },
    /// A sealed event at a position the sealer never assigns (positions start at 1).
    ImpossiblePosition { seq: i64 },
    /// Sealed events reach position `last`, past the chain's recorded head at `head`: the
    /// sealer moves the head in the transaction that seals, so the head was moved back.
    PastHead { head: i64, last: i64 },
    /// `count` events were never sealed, the oldest recorded at `since`: sealing has stopped
    /// (or no server ran since), and until it resumes they can be changed unnoticed.
    Unsealed { count: i64, since: i64 },
    /// The sealed positions after `after` up to `through` have no checkpoint, more of them
    /// than the sealer ever leaves: checkpoints were deleted.
    CheckpointsMissing { after: i64, through: i64 },
    /// The sealed positions `from..=to` have waited since `since` for a checkpoint that a
    /// running sealer writes within a minute: checkpoints were deleted, or sealing stopped
    /// (or no server ran since).
    CheckpointOverdue { from: i64, to: i64, since: i64 },
}

/// How old an unsealed event may be before it is a finding, seconds: a running server seals
/// every two seconds.
pub const UNSEALED_GRACE: i64 = 300;

/// How long sealed events may wait past the last checkpoint for the next, seconds: the
/// sealer's minute ([`super::seal::CHECKPOINT_EVERY`]), and the same lag as for sealing.
pub const CHECKPOINT_GRACE: i64 = super::seal::CHECKPOINT_EVERY + UNSEALED_GRACE;

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Edited { seq, id } => write!(
                f,
                "edited: the event at position {seq} (id {id}) no longer matches its hash"
            ),
            Self::Rehashed { seq, id } => write!(
                f,
                "edited: the event at position {seq} (id {id}) was changed and its hash \
                 recomputed; the event after it still names the old hash"
            ),
            Self::Deleted { from, to } if from == to => {
                write!(f, "deleted: no event at position {from}")
            }
            Self::Deleted { from, to } => {
                write!(f, "deleted: no events at positions {from} to {to}")
            }
            Self::Reordered {
                seq,
                id,
                after_id,
                after_seq,
            } => write!(
                f,
                "reordered: the event at position {seq} (id {id}) was sealed right after \
                 event id {after_id}, which is now at position {after_seq}"
            ),
            Self::CheckpointMismatch { seq } => write!(
                f,
                "rewritten: the hash at position {seq} differs from its signed checkpoint; \
                 events up to it were changed and rehashed"
            ),
            Self::ForgedCheckpoint { seq, why } => {
                write!(f, "forged checkpoint at position {seq}: {}", why.describe())
            }
            Self::Unanchored { first } => write!(
                f,
                "deleted: events before position {first} are gone, and no valid checkpoint at \
                 position {} vouches for the first that remains",
                first.saturating_sub(1)
            ),
            Self::PurgedWithoutRetention { first } => write!(
                f,
                "deleted: events before position {first} are gone, but audit_retention_days \
                 is off"
            ),
            Self::ImpossiblePosition { seq } => write!(
                f,
                "forged: an event holds position {seq}, which the sealer never assigns"
            ),
            Self::CheckpointsMissing { after, through } => write!(
                f,
                "deleted checkpoints: no valid checkpoint between positions {after} and \
                 {through}, {} positions apart; the sealer never leaves more than \
                 {MAX_EVENTS_BETWEEN_CHECKPOINTS}",
                through.saturating_sub(*after)
            ),
            Self::CheckpointOverdue { from, to, since } => write!(
                f,
                "unprotected: positions {from} to {to} have waited for a checkpoint since \
                 {since} (Unix time), which a running server signs within a minute; \
                 checkpoints were deleted, or no server ran since. Seal with `tessera audit \
                 seal` only once you know which"
            ),
            Self::PastHead { head, last } => write!(
                f,
                "rewritten: sealed events reach position {last}, past the chain's head at \
                 {head}; the head was moved back to drop or replace the newest events"
            ),
            Self::Unsealed { count, since } => write!(
                f,
                "unprotected: {count} events were never sealed, the oldest recorded at {since} \
                 (Unix time); sealing has stopped, or no server ran since: run `tessera audit \
                 seal`, and if it fails, the chain's head was tampered with"
            ),
        }
    }
}

/// What a verification found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Sealed events checked.
    pub events: u64,
    /// Positions of the first and last sealed events.
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Checkpoints whose signatures verified.
    pub checkpoints: u64,
    /// Events not yet sealed: not tampering, but not yet protected either.
    pub unsealed: i64,
}

/// A link that does not hold: the event at `seq` names `prev` as its predecessor, but the
/// event at `seq - 1` (id `before_id`) has another hash.
struct BrokenLink {
    seq: i64,
    id: i64,
    prev: String,
    before_seq: i64,
    before_id: i64,
}

/// Verifies the whole chain. `retention_days` is the configured retention (0: forever),
/// which says whether the oldest events may be missing.
pub async fn verify(
    store: &Store,
    kek: &KeyEncryptionKey,
    retention_days: u32,
    now: i64,
) -> Result<Report, ProviderError> {
    let keys = CheckpointKeys::open(&store.audit_keys().await?, kek);
    let mut walk = Walk {
        keys: &keys,
        report: Report::default(),
        broken: Vec::new(),
        edited: Vec::new(),
        last_id: None,
        vouched: BTreeMap::new(),
    };

    let first = match store.first_sealed_audit_seq().await? {
        Some(first) => first,
        // No events: the chain starts after the oldest checkpoint, if any remains.
        None => match store.audit_checkpoints(0, i64::MAX).await?.first() {
            Some(oldest) => oldest.seq.saturating_add(1),
            None => 1,
        },
    };
    if !(1..i64::MAX).contains(&first) {
        walk.report
            .findings
            .push(Finding::ImpossiblePosition { seq: first });
    }
    let mut prev = walk.anchor(store, first, retention_days).await?;
    // Read before the walk: every position up to this head was sealed by then, whatever a
    // running server seals meanwhile.
    let head_before = store.audit_chain_head().await?.seq;

    let mut after = first.saturating_sub(1);
    let mut expected = first;
    loop {
        let page = store.sealed_audit_events(after, PAGE).await?;
        let Some(last) = page.last().map(|event| event.seq) else {
            break;
        };
        let mut hashes = BTreeMap::new();
        for event in &page {
            walk.event(event, &mut expected, &mut prev);
            hashes.insert(event.seq, event.hash.clone());
        }
        for checkpoint in store.audit_checkpoints(after, last).await? {
            walk.checkpoint(&checkpoint, hashes.get(&checkpoint.seq));
        }
        after = last;
    }

    // Checkpoints past the last event: the events they vouch for were deleted.
    let mut tail_end = None;
    for checkpoint in store.audit_checkpoints(after, i64::MAX).await? {
        if walk.checkpoint_signature(&checkpoint).is_some() {
            tail_end = Some(checkpoint.seq);
        }
    }
    // The head names the last position sealed, checkpoint or not: positions up to it that
    // no event holds were deleted from the end (a lawful purge takes the oldest, and never
    // the newest while events remain).
    if walk.report.events > 0 && head_before >= expected {
        tail_end = tail_end.max(Some(head_before));
    }
    if let Some(to) = tail_end {
        walk.report
            .findings
            .push(Finding::Deleted { from: expected, to });
    }
    // Read after the walk: a head behind an event the walk saw was moved back.
    let head_after = store.audit_chain_head().await?.seq;
    let last_seen = expected.saturating_sub(1);
    if walk.report.events > 0 && last_seen > head_after {
        walk.report.findings.push(Finding::PastHead {
            head: head_after,
            last: last_seen,
        });
    }

    walk.resolve_broken_links(store).await?;
    walk.report.first = (walk.report.events > 0).then_some(first);
    walk.report.last = (walk.report.events > 0).then_some(expected.saturating_sub(1));
    if let Some(last) = walk.report.last {
        walk.spacing(store, first, last, now).await?;
    }
    walk.report.unsealed = store.unsealed_audit_event_count().await?;
    if let Some(since) = store.oldest_unsealed_audit_event().await? {
        if since < now - UNSEALED_GRACE {
            walk.report.findings.push(Finding::Unsealed {
                count: walk.report.unsealed,
                since,
            });
        }
    }
    Ok(walk.report)
}

struct Walk<'k> {
    keys: &'k CheckpointKeys,
    report: Report,
    broken: Vec<BrokenLink>,
    /// Positions already reported as edited, so a broken link after one is not reported
    /// a second time.
    edited: Vec<i64>,
    /// Id of the event checked last.
    last_id: Option<i64>,
    /// The position and signing time of every checkpoint whose signature verified.
    vouched: BTreeMap<i64, i64>,
}

impl Walk<'_> {
    /// The hash the first remaining event must name as its predecessor: the genesis hash,
    /// or the head of the checkpoint that retention left just before it.
    async fn anchor(
        &mut self,
        store: &Store,
        first: i64,
        retention_days: u32,
    ) -> Result<Option<String>, ProviderError> {
        if first <= 1 {
            return Ok(Some(chain::GENESIS.to_string()));
        }
        if retention_days == 0 {
            self.report
                .findings
                .push(Finding::PurgedWithoutRetention { first });
        }
        let anchor = store
            .audit_checkpoints(first.saturating_sub(2), first.saturating_sub(1))
            .await?;
        let head = anchor
            .first()
            .and_then(|checkpoint| self.checkpoint_signature(checkpoint));
        if head.is_none() {
            self.report.findings.push(Finding::Unanchored { first });
        }
        Ok(head)
    }

    /// Checks one event; `expected` is the position it should hold and `prev` the hash it
    /// should name (`None` after a gap, where the predecessor is unknown).
    fn event(&mut self, event: &SealedAuditEvent, expected: &mut i64, prev: &mut Option<String>) {
        self.report.events += 1;
        if event.seq > *expected {
            self.report.findings.push(Finding::Deleted {
                from: *expected,
                to: event.seq.saturating_sub(1),
            });
            *prev = None;
        }

        if chain::link_hash(&event.prev, &event.event).as_deref() != Some(event.hash.as_str()) {
            self.report.findings.push(Finding::Edited {
                seq: event.seq,
                id: event.event.id,
            });
            self.edited.push(event.seq);
        }

        if let Some(expected_prev) = prev.as_deref() {
            if event.prev != expected_prev {
                self.broken.push(BrokenLink {
                    seq: event.seq,
                    id: event.event.id,
                    prev: event.prev.clone(),
                    before_seq: event.seq.saturating_sub(1),
                    before_id: self.last_id.unwrap_or_default(),
                });
            }
        }
        *prev = Some(event.hash.clone());
        *expected = event.seq.saturating_add(1);
        self.last_id = Some(event.event.id);
    }
}

impl Walk<'_> {
    /// The head hash a checkpoint vouches for, if its signature verifies; a forged one is
    /// reported.
    fn checkpoint_signature(&mut self, checkpoint: &AuditCheckpoint) -> Option<String> {
        match self.keys.verify(checkpoint) {
            Ok(claims) => {
                self.report.checkpoints += 1;
                self.vouched.insert(checkpoint.seq, claims.iat);
                Some(claims.head)
            }
            Err(why) => {
                self.report.findings.push(Finding::ForgedCheckpoint {
                    seq: checkpoint.seq,
                    why,
                });
                None
            }
        }
    }

    /// Checks a checkpoint against the stored hash at its position (`None`: no event is
    /// there, which the walk has reported as a deletion).
    fn checkpoint(&mut self, checkpoint: &AuditCheckpoint, stored: Option<&String>) {
        let Some(head) = self.checkpoint_signature(checkpoint) else {
            return;
        };
        if stored.is_some_and(|stored| *stored != head) {
            self.report.findings.push(Finding::CheckpointMismatch {
                seq: checkpoint.seq,
            });
        }
    }

    /// Tells, for each broken link, whether its event was moved (the predecessor it names
    /// is elsewhere in the chain) or its predecessor rewritten (named nowhere).
    async fn resolve_broken_links(&mut self, store: &Store) -> Result<(), ProviderError> {
        if self.broken.is_empty() {
            return Ok(());
        }
        let wanted: Vec<String> = self.broken.iter().map(|link| link.prev.clone()).collect();
        let found = store.sealed_audit_events_with_hash(&wanted).await?;
        for link in std::mem::take(&mut self.broken) {
            match found.iter().find(|event| event.hash == link.prev) {
                Some(before) => self.report.findings.push(Finding::Reordered {
                    seq: link.seq,
                    id: link.id,
                    after_id: before.event.id,
                    after_seq: before.seq,
                }),
                None if self.edited.contains(&link.before_seq) => {}
                None => self.report.findings.push(Finding::Rehashed {
                    seq: link.before_seq,
                    id: link.before_id,
                }),
            }
        }
        Ok(())
    }
}

impl crate::Provider {
    /// Verifies the chain at `now` with this provider's key-encryption key and retention
    /// setting.
    pub async fn verify_audit_trail(&self, now: i64) -> Result<Report, ProviderError> {
        let retention_days = self.inner.settings.audit.retention_days;
        verify(&self.inner.store, &self.inner.kek, retention_days, now).await
    }
}

mod spacing;
