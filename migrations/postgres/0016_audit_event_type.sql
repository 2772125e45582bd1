-- The admin API filters the audit trail by event type and pages through it newest first by
-- id: this index serves `WHERE event_type = ? AND id < ? ORDER BY id DESC`.
CREATE INDEX audit_events_type ON audit_events(event_type, id);
