//! The provider's side of risk scoring: reading a login's facts, acting on the decision,
//! marking the audit events, and learning from a login that succeeded.

use std::net::IpAddr;

use serde_json::json;
use tessera_store::{AuditEvent, Outcome, Session, Tx, User};

use super::geoip::Located;
use super::{hour_of, network_of, Assessment, Facts, Observation, RiskDecision};
use crate::authorize::audit_context;
use crate::throttle::Prior;
use crate::{Provider, ProviderError, RequestContext};

/// Why a scored login does not go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RiskRefusal {
    /// Above `refuse_above`: refused with the page's one message for a failed login, and an
    /// alert.
    Refused,
    /// Above `mfa_above`, and the person has no second factor to give: refused with the
    /// same message. Enrolling one now would bind it on the word of whoever holds the
    /// password (NIST SP 800-63B §6.1.2.1).
    NeedsFactor,
}

impl RiskRefusal {
    /// The `reason` of the refused login's audit event.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Refused => "risk_refused",
            Self::NeedsFactor => "risk_needs_factor",
        }
    }
}

/// Whether the login `assessment` scored may go on. `factor_follows` says whether it ends
/// with a second factor anyway: the person has one and will give it, or the login is
/// multi-factor already (a passkey with user verification).
pub(crate) fn refusal(assessment: &Assessment, factor_follows: bool) -> Option<RiskRefusal> {
    match assessment.decision {
        RiskDecision::Refuse => Some(RiskRefusal::Refused),
        RiskDecision::Mfa if !factor_follows => Some(RiskRefusal::NeedsFactor),
        RiskDecision::Mfa | RiskDecision::Allow => None,
    }
}

/// Whether a live session may serve an authorization request without a login.
#[derive(Debug)]
pub(crate) enum SessionRisk {
    /// It may. `rescored` is this use's own assessment when the session was scored again (it
    /// came from another network than its login); the request's event carries it.
    Holds { rescored: Option<Assessment> },
    /// It may not: this use scored above `refuse_above`, and a `risk.alert` was written.
    Refused,
}

/// Sets an audit event's risk columns from the login's assessment, if it was scored.
pub(crate) fn mark(event: &mut AuditEvent, assessment: Option<&Assessment>) {
    if let Some(assessment) = assessment {
        event.risk_score = Some(assessment.score);
        event.risk_reasons = Some(assessment.reasons_json());
    }
}

impl Provider {
    /// Scores a login by `user_id`, whose secret was just found right, at `now`. `prior`
    /// holds the throttle's counters as this attempt found them. Everything is read here,
    /// before the login's transaction opens, and the device is asked about before that
    /// transaction records it as used.
    pub(crate) async fn assess_login(
        &self,
        user_id: &str,
        prior: Prior,
        ctx: &RequestContext,
        now: i64,
    ) -> Result<Assessment, ProviderError> {
        let settings = &self.inner.settings.risk;
        let store = &self.inner.store;
        let address = ctx
            .source_ip
            .as_deref()
            .and_then(|text| text.parse::<IpAddr>().ok());
        let network = address.map(network_of);
        let located = match (&self.inner.geoip, address) {
            (Some(geoip), Some(address)) => geoip.locate(address),
            _ => Located::default(),
        };

        let history = store.risk_history(user_id).await?;
        let mut facts = Facts {
            place: located.place,
            recent_failures: prior.recent_failures(settings.recent_failures_window, now),
            ..Facts::default()
        };
        // Without a baseline the other facts are not scored, so they are not read.
        if history.is_some() {
            facts.device_known = match ctx.device_id.as_deref() {
                Some(device_id) => store.device_known(user_id, device_id).await?,
                None => false,
            };
            facts.network_known = match &network {
                Some(network) => Some(store.network_seen(user_id, network).await?),
                None => None,
            };
            facts.country_known = match &located.country {
                Some(country) => Some(store.country_seen(user_id, country).await?),
                None => None,
            };
        }
        facts.history = history;

        let observed = Observation {
            network,
            country: located.country,
            place: located.place,
            hour: hour_of(now),
        };
        Ok(Assessment::of(&facts, settings, observed, now))
    }

    /// Counts a decision taken on a login, for the metrics.
    pub(crate) fn count_decision(&self, assessment: &Assessment) {
        metrics::counter!(
            "tessera_risk_decisions_total",
            "decision" => assessment.decision.as_str(),
        )
        .increment(1);
    }

    /// Writes the events of a login the risk refused: `event` (the login step's own) as a
    /// failure saying why, and for a refusal above `refuse_above` a `risk.alert` beside it.
    pub(crate) async fn record_risk_refusal(
        &self,
        mut event: AuditEvent,
        assessment: &Assessment,
        refusal: RiskRefusal,
        tx: Option<Tx>,
    ) -> Result<(), ProviderError> {
        event.outcome = Outcome::Failure;
        event.detail = json!({ "reason": refusal.reason() });
        mark(&mut event, Some(assessment));
        let mut tx = match tx {
            Some(tx) => tx,
            None => self.inner.store.begin().await?,
        };
        tx.record(&event).await?;
        if refusal == RiskRefusal::Refused {
            let alert = AuditEvent {
                event_type: "risk.alert",
                detail: json!({ "decision": "refuse", "login": event.event_type }),
                ..event.clone()
            };
            tx.record(&alert).await?;
            tracing::warn!(
                user_id = event.user_id.as_deref().unwrap_or_default(),
                score = assessment.score,
                reasons = %assessment.reasons_json(),
                "a login was refused for its risk"
            );
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether a live session may serve an authorization request from where this one comes
    /// (single sign-on, no login). A session used from the network its login came from, or
    /// whose login was not scored, may, unscored. One used from another network is scored as
    /// a login of its person would be: below `refuse_above` it may, with that assessment for
    /// the request's event; above, it may not: the request is then a fresh login, itself
    /// scored, and a `risk.alert` is written. A stolen session cookie thus opens nothing far
    /// from where its owner signed in.
    pub(crate) async fn session_risk_holds(
        &self,
        session: &Session,
        user: &User,
        client_id: &str,
        ctx: &RequestContext,
        now: i64,
    ) -> Result<SessionRisk, ProviderError> {
        let unscored = SessionRisk::Holds { rescored: None };
        let login = Assessment::from_stored(session.risk.as_deref());
        let Some(login_network) = login.as_ref().and_then(Assessment::network) else {
            return Ok(unscored);
        };
        let here = ctx
            .source_ip
            .as_deref()
            .and_then(|text| text.parse::<IpAddr>().ok())
            .map(network_of);
        if here.as_deref().is_none_or(|here| here == login_network) {
            return Ok(unscored);
        }

        let prior = self.throttle_prior(&user.username, ctx).await?;
        let assessment = self.assess_login(&user.id, prior, ctx, now).await?;
        self.count_decision(&assessment);
        if assessment.decision != RiskDecision::Refuse {
            return Ok(SessionRisk::Holds {
                rescored: Some(assessment),
            });
        }
        let mut alert = AuditEvent {
            occurred_at: now,
            event_type: "risk.alert",
            user_id: Some(user.id.clone()),
            client_id: Some(client_id.to_string()),
            session_id: session.sid.clone(),
            detail: json!({ "decision": "refuse", "login": "session" }),
            ..audit_context(ctx)
        };
        mark(&mut alert, Some(&assessment));
        self.inner.store.record(&alert).await?;
        Ok(SessionRisk::Refused)
    }

    /// Records within `tx` what a successful login, scored as `assessment`, teaches about
    /// its person. A login that was not scored (a step-up) teaches nothing.
    pub(crate) async fn learn_login(
        &self,
        tx: &mut Tx,
        user_id: &str,
        assessment: Option<&Assessment>,
        now: i64,
    ) -> Result<(), ProviderError> {
        if let Some(lesson) = assessment.and_then(Assessment::lesson) {
            tx.learn_login(user_id, &lesson, now).await?;
        }
        Ok(())
    }
}
