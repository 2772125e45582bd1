//! Background housekeeping that every instance runs.

use std::time::Duration;

use tessera_store::Store;

/// Purges expired records every `every`, forever. Failures are logged and retried on the
/// next tick: a missed purge only leaves rows that no query will accept anyway.
pub async fn purge_loop(store: Store, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        match store.purge_expired(crate::unix_now()).await {
            Ok(removed) => tracing::debug!(removed, "purged expired records"),
            Err(err) => tracing::warn!(error = %err, "purging expired records failed"),
        }
    }
}
