//! Enrolment into the second factor: a TOTP authenticator drawn for, and confirmed by,
//! the interaction that shows it, and the first recovery codes. A WebAuthn key enrols through
//! [`crate::webauthn`] and finishes here too ([`Provider::complete_enrolment`]).

use serde_json::json;
use tessera_store::{AuditEvent, TotpFactor, Tx};

use super::{EnrolView, FactorForm, FactorOutcome, Notice, Pending, Verified, INCORRECT_CODE};
use crate::authorize::BrowserState;
use crate::mfa::AMR_PASSWORD_TOTP;
use crate::purpose::Purpose;
use crate::recovery::{self, RecoveryCode};
use crate::totp::{self, TotpSecret};
use crate::{Provider, ProviderError, RequestContext};

/// A factor just set up, and verified by the login it finishes.
pub(crate) struct Enrolled {
    /// The `amr` of a password login with this factor.
    pub amr: String,
    /// The login's success with the new factor (`login.totp`, `login.webauthn`), whose
    /// detail names what was enrolled.
    pub factor: AuditEvent,
}

/// Whether an unconfirmed secret was drawn by this interaction.
fn drawn_by(factor: &TotpFactor, pending: &Pending) -> bool {
    factor.enrolling_interaction.as_deref() == Some(pending.interaction_hash.as_slice())
}

impl Provider {
    /// The enrolment page: the QR code and `otpauth://` URI of the secret this interaction
    /// drew, drawing one first when it has none.
    pub(super) async fn show_enrolment(
        &self,
        pending: &Pending,
        csrf: String,
        client_name: String,
        notice: Notice,
        now: i64,
    ) -> Result<FactorOutcome, ProviderError> {
        // Enrolment: the unconfirmed secret is shown again to the interaction that drew it,
        // so that a reload or a wrong code does not invalidate what the app already
        // scanned. Any other interaction, perhaps of someone else who knows the password,
        // draws a new one: nobody but the enrolling browser sees a secret it may confirm.
        let user_id = pending.user.id.as_str();
        let secret = match &pending.totp {
            Some(factor) if drawn_by(factor, pending) => {
                TotpSecret::open(&factor.secret_sealed, &self.inner.kek, user_id)?
            }
            _ => {
                let secret = TotpSecret::generate();
                let sealed = secret.seal(&self.inner.kek, user_id)?;
                let mut tx = self.inner.store.begin().await?;
                tx.begin_totp_enrolment(user_id, &sealed, &pending.interaction_hash, now)
                    .await?;
                tx.commit().await?;
                secret
            }
        };
        let issuer = self.inner.settings.issuer.as_str();
        let label = url::Url::parse(issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "Tessera".to_string());
        let otpauth_uri = secret.otpauth_uri(&label, &pending.user.username);
        let qr_svg = totp::qr_svg(&otpauth_uri);
        let (error, passkey_error) = notice.split();
        Ok(FactorOutcome::Enrol(EnrolView {
            csrf,
            client_name,
            required: matches!(pending.purpose, Purpose::Authorization(_)),
            account: pending.user.username.clone(),
            otpauth_uri,
            qr_svg,
            error,
            retry_after: notice.retry_after(),
            passkey: self.webauthn_offered(),
            passkey_error,
        }))
    }

    /// The first code from a newly scanned authenticator: confirms it, issues recovery
    /// codes, and logs the person in.
    pub(super) async fn enrol(
        &self,
        pending: &Pending,
        factor: &TotpFactor,
        form: &FactorForm,
        browser: &BrowserState<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let user_id = pending.user.id.as_str();
        if !drawn_by(factor, pending) {
            // Another interaction drew this secret: this one gets a secret of its own.
            return self.show(pending, Notice::Code(INCORRECT_CODE), now).await;
        }
        let secret = TotpSecret::open(&factor.secret_sealed, &self.inner.kek, user_id)?;
        let mut tx = self.inner.store.begin().await?;

        let hash = &pending.interaction_hash;
        let accepted = match totp::matching_step(&secret, &form.code, now) {
            Some(step) => tx.confirm_totp_enrolment(user_id, hash, step, now).await?,
            None => false,
        };
        if !accepted {
            let event = self.factor_event(pending, "factor.totp_enrol", now, ctx, "wrong_code");
            return self.wrong_code(tx, pending, event, now).await;
        }

        let mut factor = self.factor_event(pending, "login.totp", now, ctx, "");
        factor.detail = json!({ "enrolled": "totp" });
        let enrolled = Enrolled {
            amr: AMR_PASSWORD_TOTP.to_string(),
            factor,
        };
        self.complete_enrolment(tx, pending, enrolled, browser, now, ctx)
            .await
    }

    /// Finishes an enrolment whose new factor `tx` holds: the first ten recovery codes,
    /// shown once, and the login, after which the sessions opened with the password alone,
    /// before the person had a factor, end: one may be an intruder's, signed in with a
    /// stolen password. The request is one attempt, so the login's event (naming the factor
    /// enrolled) is its only audit event: it counts the codes too.
    pub(crate) async fn complete_enrolment(
        &self,
        mut tx: Tx,
        pending: &Pending,
        enrolled: Enrolled,
        browser: &BrowserState<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let codes = recovery::generate_set();
        let digests: Vec<[u8; 32]> = codes.iter().map(RecoveryCode::digest).collect();
        tx.replace_recovery_codes(&pending.user.id, &digests, now)
            .await?;
        let mut factor = enrolled.factor;
        if let Some(detail) = factor.detail.as_object_mut() {
            detail.insert("recovery_codes".to_string(), json!(codes.len()));
        }
        let verified = Verified {
            amr: enrolled.amr,
            factor,
            end_other_sessions: true,
        };
        match self
            .complete(tx, pending, verified, browser, now, ctx)
            .await?
        {
            FactorOutcome::LoggedIn { session, .. } => Ok(FactorOutcome::LoggedIn {
                session,
                recovery_codes: codes,
            }),
            other => Ok(other),
        }
    }
}
