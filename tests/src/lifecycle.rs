//! Helpers for the token-lifecycle tests: clients registered for more grants, tokens with
//! `offline_access`, and raw requests to the refresh, revocation and introspection endpoints.

use reqwest::Response;
use serde_json::Value;
use tessera_core::accounts::{self, NewClientRequest};
use tessera_core::unix_now;

use crate::{Browser, TestClient, TestServer, REDIRECT_URI};

/// What a test client is registered for.
pub struct ClientSpec<'a> {
    pub public: bool,
    pub first_party: bool,
    pub scope: &'a str,
    pub grant_types: &'a [&'a str],
}

impl Default for ClientSpec<'_> {
    fn default() -> Self {
        Self {
            public: false,
            first_party: true,
            scope: "openid profile email offline_access",
            grant_types: &["authorization_code"],
        }
    }
}

impl TestServer {
    pub async fn create_client_spec(&self, spec: ClientSpec<'_>) -> TestClient {
        let uris = vec![REDIRECT_URI.to_string()];
        let grants: Vec<String> = spec.grant_types.iter().map(|g| g.to_string()).collect();
        let request = NewClientRequest {
            name: "Lifecycle App",
            redirect_uris: &uris,
            public: spec.public,
            first_party: spec.first_party,
            id_token_alg: "RS256",
            scope: spec.scope,
            grant_types: &grants,
            ..NewClientRequest::default()
        };
        let created = accounts::create_client(self.provider.store(), request, unix_now())
            .await
            .unwrap();
        TestClient {
            id: created.client_id,
            secret: created.client_secret.map(|s| s.expose().to_string()),
            redirect_uri: REDIRECT_URI.to_string(),
        }
    }

    /// Sets a client's refresh-token lifetimes, absolute and idle, in seconds.
    pub async fn set_refresh_ttls(&self, client: &TestClient, ttl: i64, idle: i64) {
        let mut tx = self.provider.store().begin().await.unwrap();
        tx.set_client_refresh_token_ttls(&client.id, ttl, idle)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// Signs `username` in to `client` with `scope` and redeems the code; the token
    /// response as JSON.
    pub async fn tokens_for(&self, client: &TestClient, username: &str, scope: &str) -> Value {
        let url = self.authorize_url(client, &[("scope", scope)]);
        let code = Browser::new()
            .authorization_code(self, &url, username)
            .await;
        assert_tokens_json(self.redeem(client, &code, None).await).await
    }

    /// Posts `form` to `path` as `client` would: Basic when it has a secret, `client_id`
    /// in the body otherwise.
    pub async fn post_as(
        &self,
        client: &TestClient,
        path: &str,
        form: &[(&str, &str)],
    ) -> Response {
        let http = reqwest::Client::new();
        let mut form = form.to_vec();
        let request = match &client.secret {
            Some(secret) => http
                .post(self.url(path))
                .basic_auth(&client.id, Some(secret)),
            None => {
                form.push(("client_id", &client.id));
                http.post(self.url(path))
            }
        };
        request.form(&form).send().await.unwrap()
    }

    /// `grant_type=refresh_token`, with `scope` when given.
    pub async fn refresh(
        &self,
        client: &TestClient,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_as(client, "/token", &form).await
    }

    pub async fn revoke(&self, client: &TestClient, token: &str) -> Response {
        self.post_as(client, "/revoke", &[("token", token)]).await
    }

    /// Introspects `token` as `client`; the JSON answer, which must be a 200.
    pub async fn introspect(&self, client: &TestClient, token: &str) -> Value {
        let response = self
            .post_as(client, "/introspect", &[("token", token)])
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.json().await.unwrap()
    }
}

/// RFC 6749 §5.1: a token response, never cached. Returns the whole body.
pub async fn assert_tokens_json(response: Response) -> Value {
    let status = response.status();
    let cache = response.headers().get("cache-control").cloned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(cache.unwrap(), "no-store");
    assert!(body["access_token"].is_string(), "{body}");
    body
}

/// A string member of a JSON body.
pub fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}
