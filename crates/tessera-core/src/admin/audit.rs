//! Reading the audit trail through the admin API (scope `admin:audit:read`).

use tessera_protocol::admin::audit::{
    cursor_after, AuditEventList, AuditEventQuery, AuditEventView, AuditOutcome,
};
use tessera_store::{AuditFilter, Outcome, StoreError, StoredAuditEvent};

use super::AdminError;
use crate::Provider;

/// The audit action of a query.
pub const LIST: &str = "admin.audit.list";

impl Provider {
    /// One page of the events `query` selects, newest first.
    pub async fn admin_audit_events(
        &self,
        query: &AuditEventQuery,
    ) -> Result<AuditEventList, AdminError> {
        let filter = AuditFilter {
            user_id: query.user_id.as_deref(),
            client_id: query.client_id.as_deref(),
            event_type: query.event_type.as_deref(),
            outcome: query.outcome.map(|outcome| match outcome {
                AuditOutcome::Success => Outcome::Success,
                AuditOutcome::Failure => Outcome::Failure,
            }),
            since: query.since,
            until: query.until,
            before_id: query.before_id,
        };
        // One more than a page: whether it comes back says whether there is a next page.
        let limit = i64::from(query.limit);
        let mut events = self.inner.store.audit_events(&filter, limit + 1).await?;
        let more = events.len() as i64 > limit;
        events.truncate(query.limit as usize);

        let next_cursor = match events.last() {
            Some(last) if more => Some(cursor_after(last.id)),
            _ => None,
        };
        let items = events
            .into_iter()
            .map(view)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AuditEventList { items, next_cursor })
    }
}

fn view(event: StoredAuditEvent) -> Result<AuditEventView, AdminError> {
    let outcome =
        AuditOutcome::parse(&event.outcome).ok_or(StoreError::Corrupt("audit_events.outcome"))?;
    Ok(AuditEventView {
        id: event.id,
        occurred_at: event.occurred_at,
        event_type: event.event_type,
        outcome,
        user_id: event.user_id,
        client_id: event.client_id,
        source_ip: event.source_ip,
        user_agent: event.user_agent,
        request_id: event.request_id,
        detail: detail_object(&event.detail),
        device_id: event.device_id,
        session_id: event.session_id,
        risk_score: event.risk_score,
        risk_reasons: event
            .risk_reasons
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok()),
    })
}

/// Tessera writes every detail as a JSON object. Should a row hold anything else, it is
/// shown wrapped rather than failing the whole page: an unreadable trail helps nobody.
fn detail_object(text: &str) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(other) => serde_json::Map::from_iter([("value".to_string(), other)]),
        Err(_) => serde_json::Map::from_iter([(
            "unparsed".to_string(),
            serde_json::Value::String(text.to_string()),
        )]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::detail_object;

    #[test]
    fn a_detail_is_always_an_object() {
        let object = detail_object(r#"{"admin":"client:c1"}"#);
        assert_eq!(
            serde_json::Value::Object(object),
            json!({ "admin": "client:c1" })
        );
        let wrapped = detail_object("[1]");
        assert_eq!(serde_json::Value::Object(wrapped), json!({ "value": [1] }));
        let unparsed = detail_object("not json");
        assert_eq!(
            serde_json::Value::Object(unparsed),
            json!({ "unparsed": "not json" })
        );
    }
}
