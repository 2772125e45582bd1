//! `GET /admin/v1/audit-events`: the audit trail, newest first, filtered and cut into pages.
//!
//! The query is parsed here, at the edge, into [`AuditEventQuery`]; every offending parameter
//! is named at once. Unknown and repeated parameters are refused rather than ignored, so a
//! typo (`user=` for `user_id=`) cannot silently widen the answer.

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::FieldError;

/// The page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page.
pub const MAX_LIMIT: u32 = 200;
/// The longest id or event type a filter may name.
pub const MAX_FILTER_LENGTH: usize = 255;

/// Whether the attempt an event records succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Failure,
}

impl AuditOutcome {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

/// One recorded event, with every column it was recorded with.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    /// Increases with each event recorded; pages are cut on it.
    pub id: i64,
    /// Seconds since the epoch.
    pub occurred_at: i64,
    /// Dotted name, e.g. `login.password`, `admin.key.rotate`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub outcome: AuditOutcome,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// What is particular to this kind of event; for admin calls `admin` and `target`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Map<String, serde_json::Value>,
    /// The public id of the browser's device, for attempts made on Tessera's pages.
    pub device_id: Option<String>,
    /// The public `sid` of the session the attempt belongs to.
    pub session_id: Option<String>,
    /// The login's risk score, 0 to 100, when it was scored.
    pub risk_score: Option<i64>,
    /// The signals behind `risk_score`.
    pub risk_reasons: Option<Vec<String>>,
}

/// A page of events, newest first. `next_cursor`, when not null, fetches the next (older)
/// page with the same filters.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventList {
    pub items: Vec<AuditEventView>,
    pub next_cursor: Option<String>,
}

/// The query parameters as the OpenAPI description documents them; the server parses them
/// with [`AuditEventQuery::parse`].
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Read by the OpenAPI description only.
pub struct AuditEventParams {
    /// Events of this person (their `sub`).
    #[param(min_length = 1, max_length = 255)]
    user_id: Option<String>,
    /// Events through this client.
    #[param(min_length = 1, max_length = 255)]
    client_id: Option<String>,
    /// Events of this type, exactly.
    #[serde(rename = "type")]
    #[param(min_length = 1, max_length = 255)]
    event_type: Option<String>,
    outcome: Option<AuditOutcome>,
    /// Events at or after this time (seconds since the epoch).
    #[param(minimum = 0)]
    since: Option<i64>,
    /// Events before this time (seconds since the epoch); not before `since`.
    #[param(minimum = 0)]
    until: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Events per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// A parsed, valid audit query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditEventQuery {
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub event_type: Option<String>,
    pub outcome: Option<AuditOutcome>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Only events with a smaller id: the position the cursor names.
    pub before_id: Option<i64>,
    pub limit: u32,
}

impl AuditEventQuery {
    /// Parses `pairs` (the decoded query string), naming every offending parameter.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut query = Self {
            limit: DEFAULT_LIMIT,
            ..Self::default()
        };
        let mut seen: Vec<String> = Vec::new();
        let mut errors = Vec::new();
        for (name, value) in pairs {
            if seen.iter().any(|s| *s == name) {
                errors.push(FieldError::new(name.as_ref(), "given more than once"));
                continue;
            }
            seen.push(name.to_string());
            if let Err(message) = query.set(&name, &value) {
                errors.push(FieldError::new(name.as_ref(), message));
            }
        }
        if let (Some(since), Some(until)) = (query.since, query.until) {
            if until < since {
                errors.push(FieldError::new("until", "must not be before since"));
            }
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(errors)
        }
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), &'static str> {
        match name {
            "user_id" => self.user_id = Some(filter_text(value)?),
            "client_id" => self.client_id = Some(filter_text(value)?),
            "type" => self.event_type = Some(filter_text(value)?),
            "outcome" => {
                self.outcome =
                    Some(AuditOutcome::parse(value).ok_or("must be success or failure")?);
            }
            "since" => self.since = Some(time(value)?),
            "until" => self.until = Some(time(value)?),
            "cursor" => self.before_id = Some(cursor_position(value).ok_or("unknown cursor")?),
            "limit" => self.limit = limit(value)?,
            _ => return Err("unknown parameter"),
        }
        Ok(())
    }
}

/// An id or type to filter on: 1 to 255 characters, none of them a control character (no
/// stored id or type holds one, and PostgreSQL refuses NUL in text).
fn filter_text(value: &str) -> Result<String, &'static str> {
    if value.is_empty() || value.chars().count() > MAX_FILTER_LENGTH {
        return Err("must be 1 to 255 characters");
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(value.to_string())
}

fn time(value: &str) -> Result<i64, &'static str> {
    value
        .parse::<i64>()
        .ok()
        .filter(|t| *t >= 0)
        .ok_or("must be a whole number of seconds since the epoch, not negative")
}

fn limit(value: &str) -> Result<u32, &'static str> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or("must be a whole number from 1 to 200")
}

/// The cursor of the page that follows the event `id`: opaque to clients, so the way pages
/// are cut may change without breaking them.
pub fn cursor_after(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("audit:{id}"))
}

fn cursor_position(cursor: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let id = text.strip_prefix("audit:")?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

#[cfg(test)]
mod tests;
