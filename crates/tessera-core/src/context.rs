//! Who is asking, as far as the audit trail needs to know.

/// Facts about the request that every audit event carries. None of them is secret.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// The public id of the browser's device (see [`crate::device`]), for requests to
    /// Tessera's own pages; `None` for the endpoints apps and admins call.
    pub device_id: Option<String>,
}
