//! The admin API's one error response: RFC 9457 problem details, `application/problem+json`.
//!
//! 401 and 403 answers also carry the RFC 6750 §3 challenge, so that OAuth client libraries
//! see `invalid_token` and `insufficient_scope` where they look for them. Server faults are
//! logged with their cause chain and answered with the request id only.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::admin::{AdminError, AdminRefusal};
use tessera_core::ProviderError;
use tessera_protocol::admin::{FieldError, Problem, ProblemType};

use crate::error::{error_chain, no_store};

/// An admin call's failure, ready to be sent.
#[derive(Debug)]
pub(crate) struct ApiError {
    /// Boxed: handlers return `Result<_, ApiError>`, and the error path is the rare one.
    problem: Box<Problem>,
    /// The `WWW-Authenticate` challenge of a 401 or 403 (RFC 6750 §3).
    challenge: Option<String>,
}

impl ApiError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            problem: Box::new(Problem::new(kind, detail)),
            challenge: None,
        }
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self {
            problem: Box::new(Problem::invalid(errors)),
            challenge: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(ProblemType::NotFound, "no such resource")
    }

    /// A failure of the server: logged in full, answered with the request id only.
    pub fn fault(cause: &ProviderError, request_id: &str) -> Self {
        tracing::error!(request_id, error = %error_chain(cause), "admin request failed");
        let mut problem = Problem::new(
            ProblemType::ServerError,
            "the request failed; the operator's log has the cause under this request id",
        );
        problem.instance = Some(format!("urn:tessera:request:{request_id}"));
        Self {
            problem: Box::new(problem),
            challenge: None,
        }
    }

    /// Maps a refused caller (RFC 6750 §3.1 error codes in the challenge).
    pub fn refused(refusal: &AdminRefusal) -> Self {
        match refusal {
            AdminRefusal::InvalidToken => Self {
                problem: Box::new(Problem::new(
                    ProblemType::Unauthorized,
                    "the access token is missing, invalid, expired or revoked",
                )),
                challenge: Some(
                    "Bearer realm=\"tessera-admin\", error=\"invalid_token\"".to_string(),
                ),
            },
            AdminRefusal::SecondFactorRequired => Self {
                problem: Box::new(Problem::new(
                    ProblemType::SecondFactorRequired,
                    "admin rights need a login with a second factor (the token's amr lacks \
                     \"mfa\"): log in again with your authenticator or passkey",
                )),
                challenge: Some(
                    "Bearer realm=\"tessera-admin\", error=\"insufficient_user_authentication\""
                        .to_string(),
                ),
            },
            AdminRefusal::InsufficientScope(scope) => Self {
                problem: Box::new(Problem::new(
                    ProblemType::InsufficientScope,
                    format!("this call needs the scope {scope}, which the token does not hold"),
                )),
                challenge: Some(format!(
                    "Bearer realm=\"tessera-admin\", error=\"insufficient_scope\", scope=\"{scope}\""
                )),
            },
        }
    }

    /// Maps a failed admin operation.
    pub fn from_admin(err: AdminError, request_id: &str) -> Self {
        match err {
            AdminError::Invalid(errors) => Self::invalid(errors),
            AdminError::NotFound => Self::not_found(),
            AdminError::Conflict(detail) => Self::new(ProblemType::Conflict, detail),
            AdminError::VersionMismatch => Self::new(
                ProblemType::PreconditionFailed,
                "If-Match does not name the current version: read the resource again",
            ),
            AdminError::Escalation(detail) => Self::new(ProblemType::Escalation, detail),
            AdminError::Provider(cause) => Self::fault(&cause, request_id),
        }
    }

    #[cfg(test)]
    pub fn problem_for_tests(self) -> Problem {
        *self.problem
    }

    pub fn kind_status(&self) -> u16 {
        self.problem.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&*self.problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(value) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        no_store(&mut response);
        response
    }
}
