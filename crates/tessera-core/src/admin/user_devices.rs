//! A person's devices as an admin lists and ends them (`/admin/v1/users/{id}/devices`).
//!
//! Enforces, besides what [`crate::devices`] does for every caller: the person exists (a
//! tombstone is none); ending a device needs every admin right the person holds
//! ([`AdminPrincipal::must_outrank`]), read in the transaction that ends it; the change and
//! its audit event share that transaction; a list's cursor names a device, or it is refused.

use serde_json::json;
use tessera_protocol::admin::{
    encode_cursor, DeviceList, DeviceSessionView, DeviceView, PageRequest,
};
use tessera_store::{DevicesAfter, Outcome};

use super::user_access::{revoked_detail, split_page, target};
use super::{AdminError, AdminPrincipal};
use crate::device::DeviceId;
use crate::devices::{end_device, DeviceSession, DeviceSummary};
use crate::{Provider, RequestContext};

/// Audit actions of this module.
pub mod actions {
    pub const DEVICES_LIST: &str = "admin.user.devices.list";
    pub const DEVICE_DELETE: &str = "admin.user.device.delete";
}

fn device_view(device: DeviceSummary) -> DeviceView {
    DeviceView {
        device_id: device.device_id,
        browser: device.software.browser,
        os: device.software.os,
        user_agent: device.user_agent,
        first_seen_at: device.first_seen_at,
        last_seen_at: device.last_seen_at,
        last_ip: device.last_ip,
        location: device.location,
        sessions: device.sessions.into_iter().map(session_view).collect(),
    }
}

/// Where the page starts: a cursor of this list names a device by its id, so one naming
/// anything else was given out by another list, or made up (400 naming `cursor`).
fn devices_after(page: &PageRequest) -> Result<Option<DevicesAfter>, AdminError> {
    let Some((last_seen_at, id)) = &page.after else {
        return Ok(None);
    };
    let Some(device) = DeviceId::parse(id) else {
        return Err(AdminError::invalid(
            "cursor",
            "is not a cursor this list gave out",
        ));
    };
    Ok(Some(DevicesAfter {
        last_seen_at: *last_seen_at,
        device_id: device.as_str().to_string(),
    }))
}

fn session_view(session: DeviceSession) -> DeviceSessionView {
    DeviceSessionView {
        sid: session.sid,
        created_at: session.created_at,
        auth_time: session.auth_time,
        expires_at: session.expires_at,
        amr: session.amr,
    }
}

impl Provider {
    /// One page of the person's devices, the most recently seen first and, among those seen
    /// in the same second, by id, each with its live sessions.
    pub async fn admin_user_devices(
        &self,
        user_id: &str,
        page: &PageRequest,
        now: i64,
    ) -> Result<DeviceList, AdminError> {
        let after = devices_after(page)?;
        self.admin_known_user(user_id).await?;
        let limit = i64::from(page.limit) + 1;
        let rows = self
            .inner
            .store
            .devices_page(user_id, after.as_ref(), limit)
            .await?;
        let (rows, next_cursor) = split_page(rows, page.limit, |d| {
            encode_cursor(d.last_seen_at, &d.device_id)
        });
        let devices = self.with_live_sessions(user_id, rows, now).await?;
        Ok(DeviceList {
            items: devices.into_iter().map(device_view).collect(),
            next_cursor,
        })
    }

    /// Ends the person's device: its sessions, what they issued, the device itself (see
    /// [`crate::devices`]).
    pub async fn admin_end_device(
        &self,
        principal: &AdminPrincipal,
        user_id: &str,
        device: &DeviceId,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(), AdminError> {
        self.admin_known_user(user_id).await?;
        let device_id = device.as_str();
        let notices = self.device_logout_notices(user_id, device_id, now).await?;

        let mut tx = self.inner.store.begin().await?;
        if let Err(refusal) = principal
            .must_outrank(&mut tx, user_id, "end their devices")
            .await
        {
            tx.rollback().await?;
            return Err(refusal);
        }
        let Some(ended) = end_device(&mut tx, user_id, device_id, &notices, now).await? else {
            tx.rollback().await?;
            return Err(AdminError::NotFound);
        };

        let target = target(user_id, Some(("device", device_id)));
        let mut event = principal.event(actions::DEVICE_DELETE, Outcome::Success, target, now, ctx);
        event.detail["ended_sessions"] = json!(ended.sessions);
        event.detail["ended"] = revoked_detail(ended.revoked);
        event.detail["logout_notices"] = json!(notices.len());
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(())
    }
}
