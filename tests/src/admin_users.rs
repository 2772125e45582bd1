//! Helpers for the tests of `/admin/v1/users`: requests with headers, and the audit event an
//! admin call left.

use reqwest::{Method, Response};
use serde_json::Value;

use crate::TestServer;

/// The scopes a user administrator's service token carries.
pub const USERS_RW: &str = "admin:users:read admin:users:write";

impl TestServer {
    /// Creates a person over the API; their JSON view and ETag.
    pub async fn admin_create_user(&self, token: &str, body: &Value) -> (Value, String) {
        let response = self
            .admin(Method::POST, Some(token), "/users", Some(body))
            .await;
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        json_and_etag(response).await
    }

    /// Reads a person over the API; their JSON view and ETag.
    pub async fn admin_user(&self, token: &str, id: &str) -> (Value, String) {
        let response = self
            .admin(Method::GET, Some(token), &format!("/users/{id}"), None)
            .await;
        assert_eq!(response.status(), 200);
        json_and_etag(response).await
    }

    /// The newest audit event of `event_type`, as (outcome, detail).
    pub async fn last_outcome(&self, event_type: &str) -> (String, Value) {
        let (outcome, _, detail) = self.last_event(event_type).await;
        (outcome, detail)
    }
}

/// The body and `ETag` of a 2xx answer.
pub async fn json_and_etag(response: Response) -> (Value, String) {
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    (response.json().await.unwrap(), etag)
}
