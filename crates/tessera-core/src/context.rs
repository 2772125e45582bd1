//! Who is asking, as far as the audit trail needs to know.

/// Facts about the request that every audit event carries. None of them is secret.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    // Stand-in for the device foundation's field (same shape); dropped when it is merged.
    pub device_id: Option<String>,
}
