//! The audit trail read request by request: after each request, exactly the events it
//! should have written, and nothing else.

use serde_json::Value;
use tessera_store::StoredAuditEvent;

use crate::TestServer;

/// The audit trail as the test has read it so far.
pub struct Trail<'s> {
    pub server: &'s TestServer,
    /// The highest event id already seen.
    seen: i64,
}

/// What one request must have recorded.
pub struct Expected<'a> {
    event_type: &'a str,
    outcome: &'a str,
    user: Option<&'a str>,
    client: Option<&'a str>,
}

pub fn success<'a>(
    event_type: &'a str,
    user: Option<&'a str>,
    client: Option<&'a str>,
) -> Expected<'a> {
    Expected {
        event_type,
        outcome: "success",
        user,
        client,
    }
}

pub fn failure<'a>(
    event_type: &'a str,
    user: Option<&'a str>,
    client: Option<&'a str>,
) -> Expected<'a> {
    Expected {
        event_type,
        outcome: "failure",
        user,
        client,
    }
}

impl<'s> Trail<'s> {
    /// Starts after every event recorded so far (the test's own setup).
    pub async fn after_setup(server: &'s TestServer) -> Self {
        let mut trail = Self { server, seen: 0 };
        trail.seen = trail.newer().await.iter().map(|e| e.id).max().unwrap_or(0);
        trail
    }

    /// Events newer than the last seen, oldest first.
    pub async fn newer(&self) -> Vec<StoredAuditEvent> {
        let recent = self
            .server
            .provider
            .store()
            .recent_audit_events(1000)
            .await
            .unwrap();
        let mut newer: Vec<_> = recent.into_iter().filter(|e| e.id > self.seen).collect();
        newer.reverse();
        newer
    }

    /// The request just made recorded exactly `expected`; returns the event's detail.
    pub async fn one(&mut self, what: &str, expected: Expected<'_>) -> Value {
        let event = self.event(what, expected).await;
        serde_json::from_str(&event.detail).unwrap()
    }

    /// The request just made recorded exactly `expected`; returns the whole event.
    pub async fn event(&mut self, what: &str, expected: Expected<'_>) -> StoredAuditEvent {
        let newer = self.newer().await;
        let summary: Vec<(&str, &str)> = newer
            .iter()
            .map(|e| (e.event_type.as_str(), e.outcome.as_str()))
            .collect();
        assert_eq!(
            newer.len(),
            1,
            "{what}: expected one event, got {summary:?}"
        );
        let event = &newer[0];
        self.seen = event.id;
        assert_eq!(
            (event.event_type.as_str(), event.outcome.as_str()),
            (expected.event_type, expected.outcome),
            "{what}: {event:?}"
        );
        assert_eq!(event.user_id.as_deref(), expected.user, "{what}: the user");
        assert_eq!(
            event.client_id.as_deref(),
            expected.client,
            "{what}: the client"
        );
        event.clone()
    }

    /// The requests just made recorded exactly `count` events; returns them, oldest first.
    pub async fn exactly(&mut self, what: &str, count: usize) -> Vec<StoredAuditEvent> {
        let newer = self.newer().await;
        let summary: Vec<(&str, &str)> = newer
            .iter()
            .map(|e| (e.event_type.as_str(), e.outcome.as_str()))
            .collect();
        assert_eq!(newer.len(), count, "{what}: got {summary:?}");
        self.seen = newer.iter().map(|e| e.id).max().unwrap_or(self.seen);
        newer
    }

    /// The request just made recorded nothing.
    pub async fn none(&mut self, what: &str) {
        let newer = self.newer().await;
        let summary: Vec<(&str, &str)> = newer
            .iter()
            .map(|e| (e.event_type.as_str(), e.outcome.as_str()))
            .collect();
        assert_eq!(summary, [], "{what}: a page view is no attempt");
    }
}
