//! Problem details (RFC 9457), the one error shape of the admin API.
//!
//! `type` is a URN of Tessera's (RFC 9457 §3.1.1 allows any URI); `title` is fixed per type
//! and `detail` explains this occurrence. Validation problems list every offending field in
//! `errors`, an extension member (§3.2), each named by a JSON Pointer (RFC 6901) into the
//! request body.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The kinds of problem the admin API reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemType {
    /// 400: the body or a parameter could not be read, or a field is invalid.
    Validation,
    /// 401: no bearer token, or one Tessera does not accept (RFC 6750 §3.1 invalid_token).
    Unauthorized,
    /// 403: the token lacks the scope the endpoint needs (RFC 6750 §3.1 insufficient_scope).
    InsufficientScope,
    /// 403: a person's token from a login without a second factor.
    SecondFactorRequired,
    /// 403: the caller may not hand out a right it does not hold itself.
    Escalation,
    /// 404
    NotFound,
    /// 405
    MethodNotAllowed,
    /// 409: the change conflicts with the current state (a taken name, say).
    Conflict,
    /// 412: `If-Match` names a version that is no longer current (RFC 9110 §13.1.1).
    PreconditionFailed,
    /// 428: an update without `If-Match` (RFC 6585 §3).
    PreconditionRequired,
    /// 415: a body that is not `application/json`.
    UnsupportedMediaType,
    /// 413
    PayloadTooLarge,
    /// 422: an `Idempotency-Key` reused for a different request.
    IdempotencyKeyReused,
    /// 500: the server failed; the detail is in its log under the request id.
    ServerError,
}

impl ProblemType {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Validation => "urn:tessera:problem:validation",
            Self::Unauthorized => "urn:tessera:problem:unauthorized",
            Self::InsufficientScope => "urn:tessera:problem:insufficient-scope",
            Self::SecondFactorRequired => "urn:tessera:problem:second-factor-required",
            Self::Escalation => "urn:tessera:problem:escalation",
            Self::NotFound => "urn:tessera:problem:not-found",
            Self::MethodNotAllowed => "urn:tessera:problem:method-not-allowed",
            Self::Conflict => "urn:tessera:problem:conflict",
            Self::PreconditionFailed => "urn:tessera:problem:precondition-failed",
            Self::PreconditionRequired => "urn:tessera:problem:precondition-required",
            Self::UnsupportedMediaType => "urn:tessera:problem:unsupported-media-type",
            Self::PayloadTooLarge => "urn:tessera:problem:payload-too-large",
            Self::IdempotencyKeyReused => "urn:tessera:problem:idempotency-key-reused",
            Self::ServerError => "urn:tessera:problem:server-error",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Validation => "The request is invalid",
            Self::Unauthorized => "A valid bearer token is required",
            Self::InsufficientScope => "The token lacks the scope this call needs",
            Self::SecondFactorRequired => "An admin must log in with a second factor",
            Self::Escalation => "A right the caller does not hold cannot be handed out",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict => "The request conflicts with the current state",
            Self::PreconditionFailed => "The resource changed since it was read",
            Self::PreconditionRequired => "The update must name the version it changes",
            Self::UnsupportedMediaType => "The body must be application/json",
            Self::PayloadTooLarge => "The request body is too large",
            Self::IdempotencyKeyReused => "The Idempotency-Key was used for another request",
            Self::ServerError => "The server failed",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::Validation => 400,
            Self::Unauthorized => 401,
            Self::InsufficientScope | Self::SecondFactorRequired | Self::Escalation => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::PreconditionFailed => 412,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::IdempotencyKeyReused => 422,
            Self::PreconditionRequired => 428,
            Self::ServerError => 500,
        }
    }
}

/// One offending field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) to the field in the request body, or the name of the query
    /// parameter or header.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem details object, sent as `application/problem+json`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request id the server logged this occurrence under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Every offending field, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            problem_type: kind.uri().to_string(),
            title: kind.title().to_string(),
            status: kind.status(),
            detail: detail.into(),
            instance: None,
            errors: Vec::new(),
        }
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let names: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let detail = format!("invalid field(s): {}", names.join(", "));
        Self {
            errors,
            ..Self::new(ProblemType::Validation, detail)
        }
    }
}
