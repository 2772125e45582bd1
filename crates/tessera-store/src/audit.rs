//! Audit events: one row per access attempt, written in the transaction of its change.
//!
//! The shape is meant to grow (risk scores, device ids, hash chaining) without changing
//! what is already recorded: the fixed columns are what every query filters on, and
//! `detail` carries event-specific data as JSON.

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, Tx};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// The default, so that an event built in haste never claims a success.
    #[default]
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// One recorded access attempt. Never put a secret in any field.
#[derive(Clone, Debug, Default)]
pub struct AuditEvent {
    pub occurred_at: i64,
    /// Dotted name, e.g. `login.password`, `token.authorization_code`, `consent`.
    pub event_type: &'static str,
    pub outcome: Outcome,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub detail: serde_json::Value,
    /// The public id of the browser's device (never its cookie), when the request came from
    /// one of Tessera's pages.
    pub device_id: Option<String>,
    /// The public `sid` of the session the attempt belongs to, never the session cookie.
    pub session_id: Option<String>,
    /// The login's risk score, 0 to 100, when it was scored.
    pub risk_score: Option<i64>,
    /// The names of the signals behind `risk_score`, as a JSON array.
    pub risk_reasons: Option<String>,
}

/// An audit event as read back.
#[derive(Clone, Debug)]
pub struct StoredAuditEvent {
    pub id: i64,
    pub occurred_at: i64,
    pub event_type: String,
    pub outcome: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// The event-specific JSON, exactly as stored.
    pub detail: String,
    pub device_id: Option<String>,
    pub session_id: Option<String>,
    pub risk_score: Option<i64>,
    /// A JSON array of signal names, exactly as stored.
    pub risk_reasons: Option<String>,
}

/// The columns of an event as read back, for every query that returns whole events.
pub(crate) const EVENT_COLUMNS: &str = "id, occurred_at, event_type, outcome, user_id, \
     client_id, source_ip, user_agent, request_id, detail, device_id, session_id, risk_score, \
     risk_reasons";

pub(crate) fn stored_event(row: &sqlx::any::AnyRow) -> Result<StoredAuditEvent> {
    Ok(StoredAuditEvent {
        id: row.try_get("id")?,
        occurred_at: row.try_get("occurred_at")?,
        event_type: row.try_get("event_type")?,
        outcome: row.try_get("outcome")?,
        user_id: row.try_get("user_id")?,
        client_id: row.try_get("client_id")?,
        source_ip: row.try_get("source_ip")?,
        user_agent: row.try_get("user_agent")?,
        request_id: row.try_get("request_id")?,
        detail: row.try_get("detail")?,
        device_id: row.try_get("device_id")?,
        session_id: row.try_get("session_id")?,
        risk_score: row.try_get("risk_score")?,
        risk_reasons: row.try_get("risk_reasons")?,
    })
}

/// Which events [`Store::audit_events`] returns: every filter that is set must match.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter<'a> {
    pub user_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub outcome: Option<Outcome>,
    /// `occurred_at >= since`.
    pub since: Option<i64>,
    /// `occurred_at < until`.
    pub until: Option<i64>,
    /// `id < before_id`: where the previous page ended.
    pub before_id: Option<i64>,
}

/// How many values [`bind_event`] binds for one event.
pub(crate) const EVENT_VALUES: usize = 13;

/// The columns of an audit event and the placeholders after the first `offset` binds, for
/// statements that write an event beside something else.
pub(crate) fn insert_event_sql(offset: usize) -> String {
    let placeholders: Vec<String> = (1..=EVENT_VALUES)
        .map(|n| format!("${}", n + offset))
        .collect();
    format!(
        "INSERT INTO audit_events (occurred_at, event_type, outcome, user_id, client_id, \
         source_ip, user_agent, request_id, detail, device_id, session_id, risk_score, \
         risk_reasons) VALUES ({})",
        placeholders.join(", ")
    )
}

/// Binds an event's values, in the order of [`insert_event_sql`].
pub(crate) fn bind_event<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    event: &'q AuditEvent,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let detail = if event.detail.is_null() {
        "{}".to_string()
    } else {
        event.detail.to_string()
    };
    query
        .bind(event.occurred_at)
        .bind(event.event_type)
        .bind(event.outcome.as_str())
        .bind(&event.user_id)
        .bind(&event.client_id)
        .bind(&event.source_ip)
        .bind(&event.user_agent)
        .bind(&event.request_id)
        .bind(detail)
        .bind(&event.device_id)
        .bind(&event.session_id)
        .bind(event.risk_score)
        .bind(&event.risk_reasons)
}

/// Counts a written event for the metrics (`tessera_audit_events_total` by type and
/// outcome): logins, factor checks, grants and refusals, as the trail records them. An event
/// in a transaction that later rolls back is counted too: it was an attempt all the same.
pub(crate) fn count(event: &AuditEvent) {
    metrics::counter!(
        "tessera_audit_events_total",
        "type" => event.event_type,
        "outcome" => event.outcome.as_str(),
    )
    .increment(1);
}

impl Tx {
    pub async fn record(&mut self, event: &AuditEvent) -> Result<()> {
        let sql = insert_event_sql(0);
        bind_event(sqlx::query(&sql), event)
            .execute(&mut *self.0)
            .await?;
        count(event);
        Ok(())
    }
}

impl Store {
    /// Records an event on its own, for attempts that change nothing else (failures).
    pub async fn record(&self, event: &AuditEvent) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.record(event).await?;
        tx.commit().await
    }

    /// The most recent events, newest first.
    pub async fn recent_audit_events(&self, limit: i64) -> Result<Vec<StoredAuditEvent>> {
        self.audit_events(&AuditFilter::default(), limit).await
    }

    /// Up to `limit` events that match `filter`, newest (highest id) first. The SQL is the
    /// same on both engines: one condition and one bind per filter that is set.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter<'_>,
        limit: i64,
    ) -> Result<Vec<StoredAuditEvent>> {
        let text_conditions = [
            ("user_id =", filter.user_id),
            ("client_id =", filter.client_id),
            ("event_type =", filter.event_type),
            ("outcome =", filter.outcome.map(Outcome::as_str)),
        ];
        let number_conditions = [
            ("occurred_at >=", filter.since),
            ("occurred_at <", filter.until),
            ("id <", filter.before_id),
        ];
        let mut conditions = Vec::new();
        for (column, _) in text_conditions.iter().filter(|(_, v)| v.is_some()) {
            conditions.push(format!("{column} ${}", conditions.len() + 1));
        }
        for (column, _) in number_conditions.iter().filter(|(_, v)| v.is_some()) {
            conditions.push(format!("{column} ${}", conditions.len() + 1));
        }
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(&format!(
            " ORDER BY id DESC LIMIT ${}",
            conditions.len() + 1
        ));

        let mut query = sqlx::query(&sql);
        for value in text_conditions.iter().filter_map(|(_, v)| *v) {
            query = query.bind(value);
        }
        for value in number_conditions.iter().filter_map(|(_, v)| *v) {
            query = query.bind(value);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(stored_event).collect()
    }
}
