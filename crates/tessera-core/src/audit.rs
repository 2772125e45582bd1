//! The tamper-evident audit trail: sealing events into a hash chain with signed
//! checkpoints ([`seal`], [`chain`], [`checkpoint`]), verifying it ([`verify`]), exporting
//! it as JSON lines and to a webhook ([`export`], [`webhook`]), and purging its oldest part
//! ([`retention`]).
//!
//! Recording an event stays a plain insert in the transaction of the change it describes;
//! everything here happens afterwards, in the background task every instance runs.

pub mod chain;
pub mod checkpoint;
pub mod export;
pub mod retention;
pub mod seal;
pub mod verify;
pub mod webhook;

use std::time::Duration;

pub use export::{ExportTarget, Exporter};
pub use seal::{Checkpoint, Sealed};
pub use webhook::WebhookTarget;

use crate::Provider;

/// The audit trail's settings.
#[derive(Clone, Debug, Default)]
pub struct AuditSettings {
    /// JSON lines to standard output or a file; off by default.
    pub export: ExportTarget,
    /// Where sealed events are posted; none by default.
    pub webhook: Option<WebhookTarget>,
    /// Days an event is kept; 0 (the default) keeps every event.
    pub retention_days: u32,
}

/// How often retention runs, seconds.
const PURGE_EVERY: i64 = 3600;

/// Seals, exports and purges every `every`, forever. Failures are logged and retried on
/// the next tick: an unsealed event waits, an unexported one stays owed.
pub async fn seal_loop(provider: Provider, mut exporter: Option<Exporter>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    let mut last_purge = 0;
    loop {
        ticker.tick().await;
        let now = crate::unix_now();
        match provider.seal_audit_trail(now, Checkpoint::IfDue).await {
            Ok(sealed) if sealed.events > 0 => {
                tracing::debug!(
                    events = sealed.events,
                    head = sealed.head,
                    "sealed audit events"
                );
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "sealing audit events failed"),
        }
        if let Some(exporter) = exporter.as_mut() {
            if let Err(err) = exporter.export(provider.store()).await {
                tracing::warn!(error = %err, "exporting audit events failed");
            }
        }
        if now - last_purge >= PURGE_EVERY {
            last_purge = now;
            match provider.purge_audit_trail(now).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "purged audit events past retention"),
                Err(err) => tracing::warn!(error = %err, "purging audit events failed"),
            }
        }
    }
}

/// Posts owed events to the webhook every `every`, forever, and reports the backlog after
/// each run; see [`webhook`].
pub async fn webhook_loop(provider: Provider, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        if let Err(err) = provider.deliver_audit_webhook(crate::unix_now).await {
            tracing::warn!(error = %err, "delivering audit events failed");
        }
    }
}
