//! What every admin handler extracts: the verified caller, a JSON body that must match its
//! type exactly, the version an update changes (`If-Match`), and an `Idempotency-Key`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::json;
use tessera_core::admin::idempotency::IdempotencyKey;
use tessera_core::admin::{AdminPrincipal, AdminRefusal};
use tessera_protocol::admin::{version_of_etag, AdminScope, FieldError, ProblemType};
use tessera_store::{AuditEvent, Outcome};

use super::problem::ApiError;
use crate::routes::{bearer, Meta};
use crate::AppState;

/// A verified admin caller, with the facts of its request.
pub(crate) struct AdminCall {
    pub principal: AdminPrincipal,
    pub meta: Meta,
}

/// Records a call refused before it reached its endpoint (every call leaves an event).
/// `path` is the one the caller sent, prefix included.
pub(super) async fn record_refusal(
    state: &AppState,
    meta: &Meta,
    (method, path): (&Method, &str),
    reason: &str,
) {
    let event = AuditEvent {
        occurred_at: meta.now,
        event_type: "admin.refused",
        outcome: Outcome::Failure,
        source_ip: meta.ctx.source_ip.clone(),
        user_agent: meta.ctx.user_agent.clone(),
        request_id: meta.ctx.request_id.clone(),
        detail: json!({
            "reason": reason,
            "method": method.as_str(),
            "path": path,
        }),
        ..AuditEvent::default()
    };
    if let Err(err) = state.provider.store().record(&event).await {
        tracing::error!(request_id = %meta.request_id, error = %err, "audit write failed");
    }
}

fn refusal_reason(refusal: &AdminRefusal) -> &'static str {
    match refusal {
        AdminRefusal::InvalidToken => "invalid_token",
        AdminRefusal::SecondFactorRequired => "second_factor_required",
        AdminRefusal::InsufficientScope(_) => "insufficient_scope",
    }
}

impl FromRequestParts<AppState> for AdminCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Ok(meta) = Meta::from_request_parts(parts, state).await;
        // The handlers are nested below the prefix, so their own URI lacks it.
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(parts.uri.path(), |original| original.0.path());
        let call = (&parts.method, path);

        // RFC 6750 §2.1: the token comes in the Authorization header only.
        let token = match bearer(&parts.headers) {
            Ok(Some(token)) => token,
            Ok(None) | Err(_) => {
                record_refusal(state, &meta, call, "invalid_token").await;
                return Err(ApiError::refused(&AdminRefusal::InvalidToken));
            }
        };
        match state.provider.admin_principal(&token, meta.now).await {
            Ok(Ok(principal)) => Ok(AdminCall { principal, meta }),
            Ok(Err(refusal)) => {
                record_refusal(state, &meta, call, refusal_reason(&refusal)).await;
                Err(ApiError::refused(&refusal))
            }
            Err(cause) => Err(ApiError::fault(&cause, &meta.request_id)),
        }
    }
}

impl AdminCall {
    /// Demands the endpoint's scope (RFC 6750 §3.1 `insufficient_scope`); a refusal is
    /// recorded as a failed `action` on `target`.
    pub async fn require(
        &self,
        state: &AppState,
        scope: AdminScope,
        action: &'static str,
        target: serde_json::Value,
    ) -> Result<(), ApiError> {
        let Err(refusal) = self.principal.require(scope) else {
            return Ok(());
        };
        let mut event = self.event(action, Outcome::Failure, target);
        event.detail["reason"] = json!("insufficient_scope");
        self.write(state, &event).await;
        Err(ApiError::refused(&refusal))
    }

    /// The audit event of this call.
    pub fn event(
        &self,
        action: &'static str,
        outcome: Outcome,
        target: serde_json::Value,
    ) -> AuditEvent {
        self.principal
            .event(action, outcome, target, self.meta.now, &self.meta.ctx)
    }

    /// Records an event that no change carries (reads, and failures).
    pub async fn write(&self, state: &AppState, event: &AuditEvent) {
        if let Err(err) = state.provider.store().record(event).await {
            tracing::error!(request_id = %self.meta.request_id, error = %err, "audit write failed");
        }
    }

    /// Maps a failed operation, recording it as a failed `action` unless the server failed
    /// (a fault is in the log; its audit write would likely fail the same way).
    pub async fn failed(
        &self,
        state: &AppState,
        action: &'static str,
        target: serde_json::Value,
        err: tessera_core::admin::AdminError,
    ) -> ApiError {
        let error = ApiError::from_admin(err, &self.meta.request_id);
        if error.kind_status() < 500 {
            let mut event = self.event(action, Outcome::Failure, target);
            event.detail["status"] = json!(error.kind_status());
            self.write(state, &event).await;
        }
        error
    }

    /// The `Idempotency-Key` of a creation, if sent; a malformed one is a validation error.
    pub fn idempotency_key(
        &self,
        headers: &HeaderMap,
        method: &Method,
        path: &str,
        body: &[u8],
    ) -> Result<Option<IdempotencyKey>, ApiError> {
        let Some(value) = headers.get("idempotency-key") else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .and_then(|key| {
                IdempotencyKey::new(self.principal.id(), key, method.as_str(), path, body)
            })
            .ok_or_else(|| {
                ApiError::invalid(vec![FieldError::new(
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters",
                )])
            })?;
        Ok(Some(key))
    }
}

/// A JSON body parsed into `T`, which refuses unknown fields; the raw bytes are kept for the
/// idempotency check.
pub(crate) struct AdminJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned> FromRequest<AppState> for AdminJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|essence| {
                let essence = essence.trim().to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false);
        if !json {
            return Err(ApiError::new(
                ProblemType::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let raw = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        ProblemType::PayloadTooLarge,
                        "the request body is too large",
                    )
                } else {
                    ApiError::new(
                        ProblemType::Validation,
                        "the request body could not be read",
                    )
                }
            })?;
        let value = parse(&raw)?;
        Ok(Self { value, raw })
    }
}

/// Parses `raw` as `T`, naming the offending field by its JSON Pointer (RFC 6901).
fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let pointer = pointer_of(err.path());
        let inner = err.into_inner();
        let message = if inner.is_data() {
            // serde's text names the field or type the client got wrong; strip the position.
            strip_position(&inner.to_string())
        } else {
            "the body is not well-formed JSON".to_string()
        };
        ApiError::invalid(vec![FieldError::new(pointer, message)])
    })?;
    deserializer.end().map_err(|_| {
        ApiError::invalid(vec![FieldError::new(
            "",
            "trailing characters after the JSON value",
        )])
    })?;
    Ok(value)
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => pointer.push_str(&escape(key)),
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

/// RFC 6901 §3: `~` and `/` in a name are escaped.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// The version an update changes, from `If-Match` (RFC 9110 §13.1.1). Required: an update
/// without it gets 428 (RFC 6585 §3), so two admins cannot overwrite each other unawares.
pub(crate) struct IfMatch(pub IfMatchVersion);

pub(crate) enum IfMatchVersion {
    /// `*`: whatever the current version is.
    Any,
    Version(i64),
    /// A tag Tessera never sent (a weak one, say): it cannot match (412).
    Never,
}

impl IfMatchVersion {
    /// Whether the resource's `current` version satisfies the precondition.
    pub fn matches(&self, current: i64) -> bool {
        match self {
            Self::Any => true,
            Self::Version(version) => *version == current,
            Self::Never => false,
        }
    }
}

impl FromRequestParts<AppState> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Err(ApiError::new(
                ProblemType::PreconditionRequired,
                "send If-Match with the ETag of the version you read",
            ));
        };
        let value = value.to_str().unwrap_or("").trim();
        let version = if value == "*" {
            IfMatchVersion::Any
        } else {
            version_of_etag(value).map_or(IfMatchVersion::Never, IfMatchVersion::Version)
        };
        Ok(IfMatch(version))
    }
}

#[cfg(test)]
mod tests;
