//! `GET /users/{id}/devices` and `DELETE /users/{id}/devices/{device_id}`.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::admin::user_access::target;
use tessera_core::admin::user_devices::actions;
use tessera_core::admin::AdminError;
use tessera_core::device::DeviceId;
use tessera_protocol::admin::{AdminScope, DeviceList, PageRequest, Problem};

use super::{known_parameters, page, read, removed, subject, ListQuery, PathIds};
use crate::admin::extract::AdminCall;
use crate::admin::problem::ApiError;
use crate::AppState;

#[derive(Deserialize)]
pub(in crate::admin) struct DevicePath {
    id: String,
    device_id: String,
}

impl PathIds for DevicePath {
    fn target(&self) -> Value {
        target(&self.id, Some(("device", &self.device_id)))
    }

    fn parts(&self) -> Vec<&str> {
        vec![&self.id, &self.device_id]
    }
}

/// The person's devices, the most recently seen first (and among those last seen in the same
/// second, by `device_id`): what each runs (read from its user agent), when it was first and
/// last seen, from which address, and its live sessions.
///
/// A device seen again while the pages are read moves to the front, behind the walk: it is
/// listed once, or not at all if the walk had not reached it yet.
#[utoipa::path(
    get,
    path = "/users/{id}/devices",
    tag = "users",
    security(("bearer" = ["admin:users:read"])),
    params(
        ("id" = String, Path, description = "The person's id (their `sub`)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Devices per page, 50 if absent"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of the person's devices", body = DeviceList),
        (status = 400, description = "`limit` or `cursor` is invalid, or a parameter is unknown", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:read, or a person's token has no second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn list_devices(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let action = actions::DEVICES_LIST;
    let person = subject(&state, &call, AdminScope::UsersRead, action, path).await?;
    let (target, names) = (&person.target, &PageRequest::NAMES);
    known_parameters(&state, &call, action, target, raw.as_deref(), names).await?;
    let page = page(&state, &call, action, target, query).await?;
    let now = call.meta.now;
    let result = state
        .provider
        .admin_user_devices(&person.ids, &page, now)
        .await;
    read(&state, &call, action, person.target, result).await
}

/// Ends one device: every session opened from it ends, the refresh tokens issued through
/// them are revoked with their access tokens, the apps they served are sent back-channel
/// logout, and the device is forgotten.
#[utoipa::path(
    delete,
    path = "/users/{id}/devices/{device_id}",
    tag = "users",
    security(("bearer" = ["admin:users:write"])),
    params(
        ("id" = String, Path, description = "The person's id (their `sub`)"),
        ("device_id" = String, Path, pattern = "^[0-9a-f]{32}$", description = "The device's public id: 32 lowercase hexadecimal characters"),
    ),
    responses(
        (status = 204, description = "The device's sessions ended and it is forgotten"),
        (status = 400, description = "`device_id` is not a device id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin:users:write, a person's token has no second factor, or the person holds admin rights the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person, or no device of theirs with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(in crate::admin) async fn end_device(
    State(state): State<AppState>,
    call: AdminCall,
    path: Result<Path<DevicePath>, PathRejection>,
) -> Result<Response, ApiError> {
    let action = actions::DEVICE_DELETE;
    let person = subject(&state, &call, AdminScope::UsersWrite, action, path).await?;
    let DevicePath { id, device_id } = &person.ids;
    let Some(device) = DeviceId::parse(device_id) else {
        let malformed =
            AdminError::invalid("device_id", "must be 32 lowercase hexadecimal characters");
        return Err(call.failed(&state, action, person.target, malformed).await);
    };
    let (now, ctx) = (call.meta.now, &call.meta.ctx);
    let result = state
        .provider
        .admin_end_device(&call.principal, id, &device, now, ctx)
        .await;
    removed(&state, &call, action, person.target, result).await
}
