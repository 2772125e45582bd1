//! Each submitted factor's attempt: taken before the factor is looked at, counted when it
//! fails. A code is also charged to the throttle ([`crate::throttle`]) before it is checked.

use tessera_store::{AuditEvent, Tx};

use super::{too_many_codes, FactorOutcome, Notice, Pending, INCORRECT_CODE};
use crate::authorize::{interaction_gone, BrowserState, Next};
use crate::interaction::csrf_refused;
use crate::mfa::MAX_FAILURES_PER_INTERACTION;
use crate::refusal::reason;
use crate::secret::csrf_matches;
use crate::throttle::{Subject, Throttled};
use crate::{Provider, ProviderError, RequestContext};

impl Provider {
    /// The checks before any submitted factor is looked at, in order: the interaction and
    /// its CSRF token, the password verified within it, the throttle's charge (for a code,
    /// `guessable`), and one of the interaction's attempts, taken before the factor is
    /// checked. Returns the pending step with the attempt counted, or where the browser goes
    /// instead.
    pub(crate) async fn begin_attempt(
        &self,
        browser: &BrowserState<'_>,
        csrf: &str,
        guessable: bool,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<Pending, FactorOutcome>, ProviderError> {
        // Which factor a refused form was for is unknown before the step is read: a code
        // form counts as the authenticator's, a key's as the key's.
        let refused_type = if guessable {
            "login.totp"
        } else {
            "login.webauthn"
        };
        let Some(id) = browser.interaction_id else {
            self.record_refusal(ctx, now, refused_type, reason::INTERACTION_GONE)
                .await?;
            return Ok(Err(FactorOutcome::Elsewhere(Next::ErrorPage(
                interaction_gone(),
            ))));
        };
        if !csrf_matches(id, csrf) {
            self.record_refusal(ctx, now, refused_type, reason::CSRF)
                .await?;
            return Ok(Err(FactorOutcome::Elsewhere(Next::ErrorPage(
                csrf_refused(),
            ))));
        }
        let mut pending = match self.pending(browser, now).await? {
            Ok(pending) => pending,
            Err(next) => return Ok(Err(self.none_owed(next, refused_type, now, ctx).await?)),
        };

        // NIST SP 800-63B §5.2.2: failures on one account are rate limited. A code is charged
        // to the account's and the address's counters before it is checked, and refused
        // unchecked while their delay holds. Keys are not: a WebAuthn assertion cannot be
        // guessed, and the owner's key still signs them in, here and passwordless alike.
        if guessable {
            let subject = Subject::Factor(&pending.user.id);
            match self.take_attempt(subject, ctx, now).await? {
                Ok(charge) => pending.charge = Some(charge),
                Err(throttled) => {
                    return Ok(Err(self
                        .code_throttled(&pending, throttled, now, ctx)
                        .await?))
                }
            }
        }

        // NIST SP 800-63B §5.2.2: an interaction checks at most a few codes. The attempt is
        // taken before the code is checked, and committed at once, so that parallel
        // submissions queue on the interaction's row and cannot check more between them.
        let mut claim = self.inner.store.begin().await?;
        let attempt = claim
            .claim_factor_attempt(&pending.interaction_hash, MAX_FAILURES_PER_INTERACTION)
            .await?;
        claim.commit().await?;
        let Some(attempt) = attempt else {
            // The interaction ended before the code was looked at: its charge goes back.
            if let Some(charge) = &pending.charge {
                charge.refund(&self.inner.store).await?;
            }
            let mut tx = self.inner.store.begin().await?;
            tx.delete_interaction(&pending.interaction_hash).await?;
            tx.record(&self.factor_event(&pending, "login.second_factor", now, ctx, "too_many"))
                .await?;
            tx.commit().await?;
            return Ok(Err(FactorOutcome::Elsewhere(Next::ErrorPage(
                too_many_codes(),
            ))));
        };
        pending.attempts = attempt;
        Ok(Ok(pending))
    }

    /// A factor form that arrived when no factor is owed: the interaction ended, or is at
    /// another step (the password not given yet, or the factor already given). It is still
    /// an attempt, recorded as one failure, and the browser goes where `next` says.
    async fn none_owed(
        &self,
        next: Next,
        event_type: &'static str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let why = match next {
            Next::ErrorPage(_) => reason::INTERACTION_GONE,
            _ => reason::OUT_OF_ORDER,
        };
        self.record_refusal(ctx, now, event_type, why).await?;
        Ok(FactorOutcome::Elsewhere(next))
    }

    /// A code refused unchecked while the throttle's delay holds: the page again, saying
    /// when to try again. The interaction's attempts are untouched.
    async fn code_throttled(
        &self,
        pending: &Pending,
        throttled: Throttled,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let mut event = self.factor_event(pending, "login.second_factor", now, ctx, "throttled");
        event.detail = throttled.detail();
        self.inner.store.record(&event).await?;
        self.show(pending, Notice::Throttled(throttled), now).await
    }

    /// Counts a wrong code against the interaction (its throttle charge stands), and either
    /// shows the form again or, at the interaction's limit, ends it.
    pub(super) async fn wrong_code(
        &self,
        tx: Tx,
        pending: &Pending,
        event: AuditEvent,
        now: i64,
    ) -> Result<FactorOutcome, ProviderError> {
        self.refused(tx, pending, event, Notice::Code(INCORRECT_CODE), now)
            .await
    }

    /// Counts a refused factor against the interaction, then shows the page again with
    /// `notice`, or, at the interaction's limit, ends it.
    pub(crate) async fn refused(
        &self,
        tx: Tx,
        pending: &Pending,
        event: AuditEvent,
        notice: Notice,
        now: i64,
    ) -> Result<FactorOutcome, ProviderError> {
        match self.count_failure(tx, pending, event).await? {
            Some(ended) => Ok(ended),
            None => self.show(pending, notice, now).await,
        }
    }

    /// Records a failed factor's `event` and commits `tx`; at the interaction's limit the
    /// interaction ends, and this returns where the browser goes. A code's throttle charge
    /// stands: it was a failure.
    pub(crate) async fn count_failure(
        &self,
        mut tx: Tx,
        pending: &Pending,
        event: AuditEvent,
    ) -> Result<Option<FactorOutcome>, ProviderError> {
        tx.record(&event).await?;
        if pending.attempts >= MAX_FAILURES_PER_INTERACTION {
            tx.delete_interaction(&pending.interaction_hash).await?;
            tx.commit().await?;
            return Ok(Some(FactorOutcome::Elsewhere(Next::ErrorPage(
                too_many_codes(),
            ))));
        }
        tx.commit().await?;
        Ok(None)
    }
}
