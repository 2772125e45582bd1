//! Background housekeeping that every instance runs: purging expired records, and keeping
//! the signing keys in step with the database.

use std::time::Duration;

use tessera_store::{Store, StoreError};

use crate::keys::{self, Activation, Alg, KeyInfo};
use crate::risk::RiskSettings;
use crate::{Provider, ProviderError};

/// Rows of risk history one purge statement deletes at most.
const RISK_PURGE_BATCH: i64 = 1000;

/// How long the janitor keeps what expires by age rather than by an expiry time.
#[derive(Clone, Debug)]
pub struct Retention {
    /// Seconds a throttle counter with no new failure is kept (see [`crate::throttle`]).
    pub throttle_forget_after: i64,
    /// The risk policy, whose `history_days` bounds what logins taught.
    pub risk: RiskSettings,
}

/// Purges expired records every `every`, forever, throttle counters with no failure for
/// `throttle_forget_after` seconds (which count as none already), and risk history past
/// its retention. Failures are logged and retried on the next tick: a missed purge only
/// leaves rows that no query will accept anyway, or history kept a little longer.
pub async fn purge_loop(store: Store, every: Duration, retention: Retention) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        let now = crate::unix_now();
        match store.purge_expired(now).await {
            Ok(removed) => tracing::debug!(removed, "purged expired records"),
            Err(err) => tracing::warn!(error = %err, "purging expired records failed"),
        }
        let cutoff = now.saturating_sub(retention.throttle_forget_after);
        match store.purge_throttle_counters(cutoff).await {
            Ok(removed) => tracing::debug!(removed, "purged forgotten throttle counters"),
            Err(err) => tracing::warn!(error = %err, "purging throttle counters failed"),
        }
        match forget_risk_history(&store, &retention.risk, now).await {
            Ok(removed) => tracing::debug!(removed, "forgot risk history past retention"),
            Err(err) => tracing::warn!(error = %err, "forgetting risk history failed"),
        }
    }
}

/// Forgets the networks and countries no successful login came from for the policy's
/// `history_days` at `now`; returns how many went. A login from one of them later fires
/// `new_network` or `new_country` again, as it would for a place never seen.
pub async fn forget_risk_history(
    store: &Store,
    risk: &RiskSettings,
    now: i64,
) -> Result<u64, StoreError> {
    store
        .purge_risk_history(risk.history_cutoff(now), RISK_PURGE_BATCH)
        .await
}

/// Keeps this instance's keys in step with the database every `every`, forever; see
/// [`Provider::maintain_keys`]. Failures are logged and retried on the next tick: until
/// then the keys in memory stay in force.
pub async fn key_loop(provider: Provider, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    // The first tick is immediate, and start-up has just loaded the keys.
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if let Err(err) = provider.maintain_keys(crate::unix_now()).await {
            tracing::warn!(error = %err, "maintaining signing keys failed");
        }
    }
}

impl Provider {
    /// One round of key upkeep: rotates a key that the schedule says is due, deletes keys
    /// past their retention, creates a key for an algorithm left with none able to sign,
    /// and swaps in the database's keys if they changed. Safe on several instances at once.
    pub async fn maintain_keys(&self, now: i64) -> Result<(), ProviderError> {
        let settings = &self.inner.settings;
        let store = &self.inner.store;
        let kek = &self.inner.kek;
        let retention = settings.key_retention();

        for alg in Alg::ALL {
            keys::rotate_if_due(
                store,
                kek,
                alg,
                now,
                settings.key_rotation_interval,
                settings.key_publish_ahead,
            )
            .await?;
        }

        let purged = keys::purge_removed(store, now, retention).await?;
        if purged > 0 {
            tracing::info!(purged, "deleted signing keys past their retention");
        }

        keys::ensure_signing_keys(store, kek, now, retention).await?;
        self.reload_keys(now).await?;
        Ok(())
    }

    /// Creates a new key for `alg` now (as `tessera keys rotate` does). Other instances see
    /// it at their next reload; this one at its next [`Provider::reload_keys`].
    pub async fn rotate_key(
        &self,
        alg: Alg,
        activation: Activation,
        now: i64,
    ) -> Result<KeyInfo, ProviderError> {
        let retention = self.inner.settings.key_retention();
        let store = &self.inner.store;
        Ok(keys::rotate(store, &self.inner.kek, alg, now, activation, retention).await?)
    }

    /// Swaps in the database's keys if they changed; returns whether they did.
    pub async fn reload_keys(&self, now: i64) -> Result<bool, ProviderError> {
        let retention = self.inner.settings.key_retention();
        let swapped = self
            .inner
            .keys
            .reload(&self.inner.store, &self.inner.kek, now, retention)
            .await?;
        if swapped {
            tracing::info!("signing keys reloaded");
        }
        Ok(swapped)
    }
}
