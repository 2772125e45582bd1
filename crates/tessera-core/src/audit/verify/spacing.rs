//! Checkpoints where the sealer puts them. Whoever can write the database can delete every
//! checkpoint and recompute every hash; the chain then links perfectly, and only the
//! missing checkpoints show it. The sealer signs one at least every
//! [`MAX_EVENTS_BETWEEN_CHECKPOINTS`] positions, and within [`CHECKPOINT_GRACE`] of
//! sealing anything past the last one; a chain with no events past its last checkpoint
//! (an idle one) owes none.
//!
//! What this cannot see: a tail cut off after the last checkpoint, together with any
//! checkpoints that came after it, when what remains is short and recent enough to look as
//! if the next checkpoint were still due. An exported copy of the chain (the webhook, the
//! JSON-lines file) is the evidence against that.

use tessera_store::Store;

use super::{Finding, Walk, CHECKPOINT_GRACE, MAX_EVENTS_BETWEEN_CHECKPOINTS};
use crate::ProviderError;

impl Walk<'_> {
    /// Checks the valid checkpoints among the sealed positions `first..=last` against the
    /// sealer's spacing, at `now`.
    pub(super) async fn spacing(
        &mut self,
        store: &Store,
        first: i64,
        last: i64,
        now: i64,
    ) -> Result<(), ProviderError> {
        // The chain starts after position `first - 1`: the genesis, or the checkpoint that
        // retention left (whose absence is reported as `Unanchored`).
        let mut previous = first.saturating_sub(1);
        let within: Vec<i64> = self
            .vouched
            .range(first..=last)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in within {
            self.count_rule(previous, seq);
            previous = seq;
        }
        if last <= previous {
            return Ok(());
        }
        self.count_rule(previous, last);

        // The tail past the last checkpoint: owed a checkpoint from the later of that
        // checkpoint's signing and the first tail event's occurrence (an idle chain that
        // wakes up owes one only from then on).
        let Some(first_tail) = store.sealed_audit_events(previous, 1).await?.pop() else {
            return Ok(());
        };
        let signed = self.vouched.get(&previous).copied().unwrap_or(i64::MIN);
        let since = signed.max(first_tail.event.occurred_at);
        if now.saturating_sub(since) > CHECKPOINT_GRACE {
            self.report.findings.push(Finding::CheckpointOverdue {
                from: first_tail.seq,
                to: last,
                since,
            });
        }
        Ok(())
    }

    /// The positions after `after` up to `through` hold no checkpoint but at `through`.
    fn count_rule(&mut self, after: i64, through: i64) {
        if through.saturating_sub(after) > MAX_EVENTS_BETWEEN_CHECKPOINTS {
            self.report
                .findings
                .push(Finding::CheckpointsMissing { after, through });
        }
    }
}
