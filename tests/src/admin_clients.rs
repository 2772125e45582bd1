//! Helpers for the tests of `/admin/v1/clients`: requests with the headers updates and
//! creations carry, registrations, and the audit event of a call.

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::lifecycle::{assert_tokens_json, text};
use crate::{TestClient, TestServer, REDIRECT_URI};

/// Both client scopes, as a client administrator's service token holds them.
pub const CLIENTS_RW: &str = "admin:clients:read admin:clients:write";

/// A registration of a confidential client for the client credentials grant.
pub fn service_registration(name: &str, scope: &str) -> Value {
    json!({
        "name": name,
        "type": "confidential",
        "grant_types": ["client_credentials"],
        "scope": scope,
    })
}

/// A registration of a confidential web app using codes.
pub fn web_registration(name: &str) -> Value {
    json!({
        "name": name,
        "type": "confidential",
        "redirect_uris": [REDIRECT_URI],
        "scope": "openid profile",
    })
}

impl TestServer {
    /// Registers a client through the API with `token`; the 201 answer's body.
    pub async fn register_via_api(&self, token: &str, body: &Value) -> Value {
        let response = self
            .admin(Method::POST, Some(token), "/clients", Some(body))
            .await;
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{answer}");
        answer
    }

    /// The client credentials grant for `client_id` with `secret`.
    pub async fn client_credentials(&self, client_id: &str, secret: &str, scope: &str) -> Response {
        self.post_token(
            Some((client_id, secret)),
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await
    }

    /// An access token for `client_id` by the client credentials grant, which must succeed.
    pub async fn service_access_token(&self, client_id: &str, secret: &str, scope: &str) -> String {
        let tokens =
            assert_tokens_json(self.client_credentials(client_id, secret, scope).await).await;
        text(&tokens, "access_token").to_string()
    }
}

/// A registered client as the other test helpers take it.
pub fn test_client(answer: &Value) -> TestClient {
    TestClient {
        id: answer["client"]["client_id"].as_str().unwrap().to_string(),
        secret: answer["client_secret"].as_str().map(str::to_string),
        redirect_uri: REDIRECT_URI.to_string(),
    }
}

/// The offending fields a validation problem names, in order.
pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}
