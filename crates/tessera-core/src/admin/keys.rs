//! Signing keys through the admin API: their public parts and state, and rotation.
//!
//! A rotation is the command line's (`tessera keys rotate`, see [`crate::keys::rotate`]):
//! the new key is published `key_publish_ahead` seconds before it signs (OIDC Core §10.1.1)
//! unless the caller accepts the danger of signing at once. The new keys, their
//! `key.created` events, the call's own audit event and its idempotency record commit in one
//! transaction. This instance swaps the keys in at once; others at their next reload.

use serde_json::json;
use tessera_protocol::admin::keys::{
    KeyAlgorithm, KeyStatus as WireStatus, RotateKeys, RotatedKeys, SigningKey,
};
use tessera_protocol::admin::PREFIX;
use tessera_store::{Outcome, StoreError};

use super::idempotency::{json_body, IdempotencyKey, Replay};
use super::{AdminError, AdminPrincipal};
use crate::keys::{self, Activation, Alg, KeyError, KeyInfo, KeyStatus};
use crate::{Provider, ProviderError, RequestContext};

/// The audit action of a rotation.
pub const ROTATE: &str = "admin.key.rotate";

/// A rotation's answer and where its first key lives.
pub struct Rotation {
    pub keys: RotatedKeys,
    pub location: String,
}

impl Provider {
    /// Every stored key and its state at `now`.
    pub async fn admin_keys(&self, now: i64) -> Result<Vec<SigningKey>, AdminError> {
        let retention = self.inner.settings.key_retention();
        let infos = keys::list(&self.inner.store, now, retention)
            .await
            .map_err(ProviderError::from)?;
        infos.into_iter().map(view).collect()
    }

    /// The key `kid`, or [`AdminError::NotFound`].
    pub async fn admin_key(&self, kid: &str, now: i64) -> Result<SigningKey, AdminError> {
        let keys = self.admin_keys(now).await?;
        keys.into_iter()
            .find(|key| key.kid == kid)
            .ok_or(AdminError::NotFound)
    }

    /// Creates a key for `request.alg`, or one per algorithm, and records the call; with
    /// `idempotency`, the answer is stored with the keys so a retry gets it back.
    pub async fn admin_rotate_keys(
        &self,
        principal: &AdminPrincipal,
        request: &RotateKeys,
        idempotency: Option<&IdempotencyKey>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Rotation, AdminError> {
        let (algs, activation) = plan(request, self.inner.settings.key_publish_ahead);
        let retention = self.inner.settings.key_retention();
        let (store, kek) = (&self.inner.store, &self.inner.kek);
        let prepared = keys::prepare_rotation(store, kek, &algs, now, activation, retention)
            .await
            .map_err(rotation_error)?;

        let mut tx = store.begin().await?;
        let mut created = Vec::with_capacity(prepared.len());
        for record in &prepared {
            let info = keys::store_successor(&mut tx, record, now, "admin")
                .await
                .map_err(rotation_error)?;
            created.push(view(info)?);
        }
        let kids: Vec<&str> = created.iter().map(|k| k.kid.as_str()).collect();
        let mut event = principal.event(ROTATE, Outcome::Success, json!(kids), now, ctx);
        event.detail["danger_activate_immediately"] =
            json!(activation == Activation::DangerImmediately);
        tx.record(&event).await?;

        let location = match created.as_slice() {
            [only] => format!("{PREFIX}/keys/{}", only.kid),
            _ => format!("{PREFIX}/keys"),
        };
        let answer = RotatedKeys { items: created };
        if let Some(key) = idempotency {
            let replay = Replay {
                status: 201,
                location: Some(location.clone()),
                etag: None,
                body: json_body(&answer)?,
            };
            self.remember_answer(&mut tx, key, &replay, now).await?;
        }
        tx.commit().await?;

        // The keys are stored: a failed reload only delays them here until the next one.
        if let Err(err) = self.reload_keys(now).await {
            tracing::error!(error = %err, "signing keys not reloaded after a rotation");
        }
        Ok(Rotation {
            keys: answer,
            location,
        })
    }
}

/// The algorithms to rotate and when their new keys sign.
fn plan(request: &RotateKeys, publish_ahead: i64) -> (Vec<Alg>, Activation) {
    let algs = match request.alg {
        Some(alg) => vec![alg_of(alg)],
        None => Alg::ALL.to_vec(),
    };
    let activation = if request.danger_activate_immediately == Some(true) {
        Activation::DangerImmediately
    } else {
        Activation::PublishAhead(publish_ahead)
    };
    (algs, activation)
}

fn alg_of(alg: KeyAlgorithm) -> Alg {
    match alg {
        KeyAlgorithm::RS256 => Alg::Rs256,
        KeyAlgorithm::ES256 => Alg::Es256,
    }
}

/// Two rotations of one algorithm at once: the one that lost changed nothing.
fn rotation_error(err: KeyError) -> AdminError {
    match err {
        KeyError::ConcurrentRotation => AdminError::Conflict(
            "another rotation of this algorithm happened at the same time; list the keys and \
             retry if still needed"
                .into(),
        ),
        other => AdminError::Provider(other.into()),
    }
}

fn view(info: KeyInfo) -> Result<SigningKey, AdminError> {
    let alg = match Alg::parse(&info.alg).ok_or(StoreError::Corrupt("signing_keys.alg"))? {
        Alg::Rs256 => KeyAlgorithm::RS256,
        Alg::Es256 => KeyAlgorithm::ES256,
    };
    let serde_json::Value::Object(public_jwk) = info.public_jwk else {
        return Err(StoreError::Corrupt("signing_keys.public_jwk").into());
    };
    let status = match info.status {
        KeyStatus::Upcoming => WireStatus::Upcoming,
        KeyStatus::Active => WireStatus::Active,
        KeyStatus::Retired => WireStatus::Retired,
        KeyStatus::Removed => WireStatus::Removed,
    };
    Ok(SigningKey {
        kid: info.kid,
        alg,
        status,
        public_jwk,
        created_at: info.created_at,
        activates_at: info.activates_at,
        retires_at: info.retired_at,
        leaves_jwks_at: info.removed_at,
    })
}
