//! Creating, retiring and deleting signing keys in the database (OIDC Core §10.1.1).
//!
//! Enforces: a new key is published `key_publish_ahead` seconds before it signs, unless the
//! operator asks otherwise; its predecessors retire when it activates; a retired key is
//! deleted only once every token it can have signed has expired. Several instances (and
//! the CLI) may do any of this at once: each new key takes the next generation of its
//! algorithm, and the unique index on (alg, generation) lets exactly one writer win.

use serde_json::json;
use tessera_store::{AuditEvent, Outcome, SigningKeyRecord, Store, StoreError, Tx};

use super::lifecycle::{self, KeyStatus, Timeline};
use super::{generate, timeline, Alg, KeyEncryptionKey, KeyError};

/// When a new key starts to sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// After this many seconds in JWKS, so relying parties that cache JWKS see it first.
    PublishAhead(i64),
    /// At once. Relying parties holding a cached JWKS without the new key reject its tokens
    /// until they fetch JWKS again, and other instances verify them only after their next
    /// reload: for an operator who accepts that, e.g. after a key was exposed.
    DangerImmediately,
}

/// What `tessera keys list` and the admin API show of a key: public facts and the public
/// key, never private material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    /// The public key as JWKS publishes it (RFC 7517 §4).
    pub public_jwk: serde_json::Value,
    pub status: KeyStatus,
    pub created_at: i64,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
    /// When the key leaves JWKS, once retired.
    pub removed_at: Option<i64>,
}

/// Every stored key with its state at `now`, by algorithm and oldest first.
pub async fn list(store: &Store, now: i64, retention: i64) -> Result<Vec<KeyInfo>, KeyError> {
    let records = store.signing_keys().await?;
    let mut out = Vec::with_capacity(records.len());
    for alg in distinct_algs(&records) {
        let of_alg: Vec<&SigningKeyRecord> = records.iter().filter(|r| r.alg == alg).collect();
        let timelines: Vec<Timeline> = of_alg.iter().map(|r| timeline(r)).collect();
        let statuses = lifecycle::statuses(&timelines, now, retention);
        for ((record, status), line) in of_alg.iter().zip(statuses).zip(&timelines) {
            out.push(KeyInfo {
                kid: record.kid.clone(),
                alg: record.alg.clone(),
                public_jwk: public_jwk(record)?,
                status,
                created_at: record.created_at,
                activates_at: record.activates_at,
                retired_at: record.retired_at,
                removed_at: line.removed_at(retention),
            });
        }
    }
    Ok(out)
}

/// Refuses a key-encryption key that cannot open the keys already stored: a key sealed with
/// a different one could never be read by the instances that share the database, which
/// would then fail to reload, and to start. Checked before anything is written.
fn check_kek_opens_stored_keys(
    records: &[SigningKeyRecord],
    kek: &KeyEncryptionKey,
) -> Result<(), KeyError> {
    for record in records {
        kek.open(&record.private_key, record.kid.as_bytes())?;
    }
    Ok(())
}

/// Creates a key for each algorithm that has none able to sign at `now`, active at once:
/// nothing signs for that algorithm yet, so there is nothing to publish ahead of. On a
/// first start of several instances at once, one wins each algorithm and the others find
/// its key when they reload.
pub async fn ensure_signing_keys(
    store: &Store,
    kek: &KeyEncryptionKey,
    now: i64,
    retention: i64,
) -> Result<(), KeyError> {
    let records = store.signing_keys().await?;
    check_kek_opens_stored_keys(&records, kek)?;
    for alg in Alg::ALL {
        let of_alg = of_alg(&records, alg);
        if lifecycle::signer(&timelines(&of_alg), now, retention).is_some() {
            continue;
        }
        match create_successor(store, kek, alg, &of_alg, now, now, "bootstrap").await {
            Ok(_) | Err(KeyError::ConcurrentRotation) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Creates a new key for `alg` and retires its predecessors when it activates. Fails with
/// [`KeyError::ConcurrentRotation`] when another writer created a key of `alg` meanwhile.
pub async fn rotate(
    store: &Store,
    kek: &KeyEncryptionKey,
    alg: Alg,
    now: i64,
    activation: Activation,
    retention: i64,
) -> Result<KeyInfo, KeyError> {
    let records = prepare_rotation(store, kek, &[alg], now, activation, retention).await?;
    let mut tx = store.begin().await?;
    let mut created = None;
    for record in &records {
        created = Some(store_successor(&mut tx, record, now, "rotate").await?);
    }
    tx.commit().await?;
    created.ok_or(KeyError::NoSigningKey)
}

/// The first half of a rotation, done before any transaction opens (RSA key generation is
/// slow): a new key for each of `algs`, of the next generation, sealed, not yet stored.
/// [`store_successor`] stores each inside the caller's transaction, beside whatever else
/// must commit with it (the admin API's audit event and idempotency record).
pub async fn prepare_rotation(
    store: &Store,
    kek: &KeyEncryptionKey,
    algs: &[Alg],
    now: i64,
    activation: Activation,
    retention: i64,
) -> Result<Vec<SigningKeyRecord>, KeyError> {
    let records = store.signing_keys().await?;
    check_kek_opens_stored_keys(&records, kek)?;
    let mut prepared = Vec::with_capacity(algs.len());
    for &alg in algs {
        let of_alg = of_alg(&records, alg);
        let signing_now = lifecycle::signer(&timelines(&of_alg), now, retention).is_some();
        let activates_at = match activation {
            // With no key signing, no relying party can hold a token to check: no need to
            // wait.
            _ if !signing_now => now,
            Activation::PublishAhead(seconds) => now.saturating_add(seconds),
            Activation::DangerImmediately => now,
        };
        prepared.push(successor(kek, alg, &of_alg, now, activates_at)?);
    }
    Ok(prepared)
}
/// The configured schedule: rotates `alg` when its newest key is at least `interval`
/// seconds old (0 = never). Returns the new key, or `None` when no rotation was due or
/// another instance did it first.
pub async fn rotate_if_due(
    store: &Store,
    kek: &KeyEncryptionKey,
    alg: Alg,
    now: i64,
    interval: i64,
    publish_ahead: i64,
) -> Result<Option<KeyInfo>, KeyError> {
    if interval <= 0 {
        return Ok(None);
    }
    let records = store.signing_keys().await?;
    check_kek_opens_stored_keys(&records, kek)?;
    let of_alg = of_alg(&records, alg);
    let newest = of_alg.iter().map(|r| r.created_at).max();
    if newest.is_none_or(|created| created > now.saturating_sub(interval)) {
        return Ok(None);
    }
    let activates_at = now.saturating_add(publish_ahead);
    match create_successor(store, kek, alg, &of_alg, now, activates_at, "schedule").await {
        Ok(info) => Ok(Some(info)),
        Err(KeyError::ConcurrentRotation) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Deletes keys whose retention has passed; returns how many.
pub async fn purge_removed(store: &Store, now: i64, retention: i64) -> Result<u64, KeyError> {
    Ok(store
        .purge_retired_signing_keys(now.saturating_sub(retention))
        .await?)
}

/// Inserts the next generation of `alg` and retires the others at its activation, with an
/// audit event, in one transaction.
async fn create_successor(
    store: &Store,
    kek: &KeyEncryptionKey,
    alg: Alg,
    existing: &[&SigningKeyRecord],
    now: i64,
    activates_at: i64,
    reason: &str,
) -> Result<KeyInfo, KeyError> {
    let record = successor(kek, alg, existing, now, activates_at)?;
    let mut tx = store.begin().await?;
    let info = store_successor(&mut tx, &record, now, reason).await?;
    tx.commit().await?;
    Ok(info)
}

/// A new key for `alg`, one generation past `existing`, signing from `activates_at`.
fn successor(
    kek: &KeyEncryptionKey,
    alg: Alg,
    existing: &[&SigningKeyRecord],
    now: i64,
    activates_at: i64,
) -> Result<SigningKeyRecord, KeyError> {
    let mut record = generate(alg, kek, now)?;
    record.activates_at = activates_at;
    record.generation = existing.iter().map(|r| r.generation).max().unwrap_or(0) + 1;
    Ok(record)
}

/// Stores `record` in `tx` and retires the other keys of its algorithm at its activation,
/// recording `key.created` with `reason`. The unique (alg, generation) index makes a second
/// writer of the same generation fail with [`KeyError::ConcurrentRotation`].
pub async fn store_successor(
    tx: &mut Tx,
    record: &SigningKeyRecord,
    now: i64,
    reason: &str,
) -> Result<KeyInfo, KeyError> {
    match tx.insert_signing_key(record).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(KeyError::ConcurrentRotation),
        Err(err) => return Err(err.into()),
    }
    let activates_at = record.activates_at;
    let retired = tx
        .retire_signing_keys(&record.alg, &record.kid, activates_at)
        .await?;
    let event = AuditEvent {
        occurred_at: now,
        event_type: "key.created",
        outcome: Outcome::Success,
        detail: json!({
            "kid": record.kid,
            "alg": record.alg,
            "activates_at": activates_at,
            "retired_keys": retired,
            "reason": reason,
        }),
        ..AuditEvent::default()
    };
    tx.record(&event).await?;

    tracing::info!(
        kid = %record.kid,
        alg = %record.alg,
        activates_at,
        retired,
        reason,
        "created a signing key"
    );
    let status = if activates_at <= now {
        KeyStatus::Active
    } else {
        KeyStatus::Upcoming
    };
    Ok(KeyInfo {
        kid: record.kid.clone(),
        alg: record.alg.clone(),
        public_jwk: public_jwk(record)?,
        status,
        created_at: now,
        activates_at,
        retired_at: None,
        removed_at: None,
    })
}

fn public_jwk(record: &SigningKeyRecord) -> Result<serde_json::Value, KeyError> {
    serde_json::from_str(&record.public_jwk)
        .map_err(|_| KeyError::Store(StoreError::Corrupt("signing_keys.public_jwk")))
}

fn of_alg(records: &[SigningKeyRecord], alg: Alg) -> Vec<&SigningKeyRecord> {
    records.iter().filter(|r| r.alg == alg.as_str()).collect()
}

fn timelines(records: &[&SigningKeyRecord]) -> Vec<Timeline> {
    records.iter().map(|r| timeline(r)).collect()
}

fn distinct_algs(records: &[SigningKeyRecord]) -> Vec<&str> {
    let mut algs: Vec<&str> = records.iter().map(|r| r.alg.as_str()).collect();
    algs.dedup();
    algs
}
