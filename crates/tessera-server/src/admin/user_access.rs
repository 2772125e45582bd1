//! `/admin/v1/users/{id}/factors|sessions|devices|refresh-tokens|roles`: what gives a person
//! access, listed and ended by an admin. The rules live in `tessera_core::admin::user_access`,
//! `user_devices` and `user_roles`; the handlers here extract, demand their scope, make one
//! call and answer.
//!
//! Every call leaves an audit event, whatever stops it: a refused scope, an unreadable path,
//! query or body, a missing `If-Match`, or the operation's own outcome.

mod devices;
mod factors;
mod refresh_tokens;
mod roles;
mod sessions;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tessera_core::admin::user_access::target;
use tessera_core::admin::AdminError;
use tessera_protocol::admin::{unknown_parameters, AdminScope, FieldError, PageRequest};
use tessera_store::Outcome;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::AdminCall;
use super::problem::ApiError;
use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(factors::list_factors))
        .routes(routes!(factors::remove_factor))
        .routes(routes!(sessions::list_sessions))
        .routes(routes!(sessions::end_session))
        .routes(routes!(devices::list_devices))
        .routes(routes!(devices::end_device))
        .routes(routes!(refresh_tokens::list_families))
        .routes(routes!(refresh_tokens::revoke_family))
        .routes(routes!(roles::read_roles, roles::set_roles))
}

/// The query of a list: read as text, so that a wrong value is named in a problem rather
/// than refused by the framework in its own words.
#[derive(Deserialize)]
pub(super) struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

/// The person (and the part of them) a call is about, once the caller may make it.
pub(super) struct Subject<T> {
    pub ids: T,
    pub target: Value,
}

/// The ids a path names, and the audit target they make: a person's id alone, or a struct
/// of it and one of their parts.
pub(super) trait PathIds: DeserializeOwned + Send {
    fn target(&self) -> Value;

    /// Every id in the path.
    fn parts(&self) -> Vec<&str>;
}

impl PathIds for String {
    fn target(&self) -> Value {
        target(self, None)
    }

    fn parts(&self) -> Vec<&str> {
        vec![self]
    }
}

/// No id Tessera gives out holds a NUL, and PostgreSQL text cannot hold one (the query would
/// fail, a 500): a path with one names nothing.
fn names_something<T: PathIds>(ids: &T) -> bool {
    ids.parts().iter().all(|part| !part.contains('\0'))
}

/// Demands `scope`, then reads the path: a path that cannot be read names nothing, so it is
/// answered 404, like a person who does not exist. Both outcomes are audited as `action`.
pub(super) async fn subject<T: PathIds>(
    state: &AppState,
    call: &AdminCall,
    scope: AdminScope,
    action: &'static str,
    path: Result<Path<T>, PathRejection>,
) -> Result<Subject<T>, ApiError> {
    let ids = path.ok().map(|Path(ids)| ids).filter(names_something);
    let target = ids.as_ref().map_or(Value::Null, PathIds::target);
    call.require(state, scope, action, target.clone()).await?;
    match ids {
        Some(ids) => Ok(Subject { ids, target }),
        None => Err(call
            .failed(state, action, target, AdminError::NotFound)
            .await),
    }
}

/// The page a list call asks for; a wrong `limit` or `cursor` is a 400 naming it.
pub(super) async fn page(
    state: &AppState,
    call: &AdminCall,
    action: &'static str,
    target: &Value,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<PageRequest, ApiError> {
    let parsed = match query {
        Ok(Query(q)) => PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref()),
        Err(_) => Err(vec![FieldError::new(
            "query",
            "give limit and cursor at most once each",
        )]),
    };
    match parsed {
        Ok(page) => Ok(page),
        Err(errors) => Err(call
            .failed(state, action, target.clone(), AdminError::Invalid(errors))
            .await),
    }
}

/// Refuses a query naming a parameter outside `names` (400 naming each), as `GET /users`
/// does: a misspelt one would otherwise be ignored. Audited as `action`.
pub(super) async fn known_parameters(
    state: &AppState,
    call: &AdminCall,
    action: &'static str,
    target: &Value,
    raw: Option<&str>,
    names: &[&str],
) -> Result<(), ApiError> {
    let unknown = unknown_parameters(raw.unwrap_or_default(), names);
    if unknown.is_empty() {
        return Ok(());
    }
    Err(call
        .failed(state, action, target.clone(), AdminError::Invalid(unknown))
        .await)
}

/// Records an error answered before the operation ran (a body or header refused by its
/// extractor) as a failed `action`, and passes it on.
pub(super) async fn refused(
    state: &AppState,
    call: &AdminCall,
    action: &'static str,
    target: Value,
    error: ApiError,
) -> ApiError {
    let mut event = call.event(action, Outcome::Failure, target);
    event.detail["status"] = json!(error.kind_status());
    call.write(state, &event).await;
    error
}

/// The answer of a read: the body, with its audit event written first.
pub(super) async fn read<T: Serialize>(
    state: &AppState,
    call: &AdminCall,
    action: &'static str,
    target: Value,
    result: Result<T, AdminError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(body) => {
            call.write(state, &call.event(action, Outcome::Success, target))
                .await;
            Ok(Json(body).into_response())
        }
        Err(err) => Err(call.failed(state, action, target, err).await),
    }
}

/// The answer of a removal, whose audit event the operation wrote with the change.
pub(super) async fn removed(
    state: &AppState,
    call: &AdminCall,
    action: &'static str,
    target: Value,
    result: Result<(), AdminError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(err) => Err(call.failed(state, action, target, err).await),
    }
}
