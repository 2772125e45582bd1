//! Helpers for the admin API tests: admin tokens for people (with and without a second
//! factor) and for service clients, and requests to `/admin/v1`.

use reqwest::{Method, Response};
use serde_json::Value;
use tessera_core::accounts;
use tessera_core::admin::grants;
use tessera_core::mfa::MfaPolicy;
use tessera_core::unix_now;

use crate::factors::{enrol_on, is_enrolment};
use crate::lifecycle::{assert_tokens_json, text, ClientSpec};
use crate::{http_client, Browser, Followed, TestClient, TestServer};

/// Every admin scope, as a client is registered for them.
pub const ALL_ADMIN_SCOPES: &str = "admin:users:read admin:users:write admin:clients:read \
     admin:clients:write admin:keys:read admin:keys:write admin:audit:read admin:roles:write";

/// A person's admin token and who they are.
pub struct AdminPerson {
    pub user_id: String,
    pub token: String,
    /// Their TOTP secret, when they logged in with one.
    pub totp_secret: Option<Vec<u8>>,
}

impl TestServer {
    /// A confidential client registered for client credentials and `scope`; returns the
    /// client and an access token for all of `scope`.
    pub async fn service_token(&self, scope: &str) -> (TestClient, String) {
        let client = self
            .create_client_spec(ClientSpec {
                scope,
                grant_types: &["client_credentials"],
                ..ClientSpec::default()
            })
            .await;
        let secret = client.secret.clone().expect("a confidential client");
        let response = self
            .post_token(
                Some((&client.id, &secret)),
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        let tokens = assert_tokens_json(response).await;
        let token = text(&tokens, "access_token").to_string();
        (client, token)
    }

    /// A first-party client through which people ask for admin scopes; with `mfa`, its
    /// logins need a second factor.
    pub async fn admin_console(&self, mfa: bool) -> TestClient {
        let scope = format!("openid {ALL_ADMIN_SCOPES}");
        let client = self
            .create_client_spec(ClientSpec {
                scope: &scope,
                ..ClientSpec::default()
            })
            .await;
        let policy = if mfa {
            MfaPolicy::Required
        } else {
            MfaPolicy::Optional
        };
        accounts::set_client_mfa(self.provider.store(), &client.id, Some(policy), unix_now())
            .await
            .unwrap();
        client
    }

    /// Gives `username` each of `roles`, as the command line does.
    pub async fn grant_roles(&self, username: &str, roles: &[&str]) {
        for role in roles {
            grants::grant_role(self.provider.store(), username, role, unix_now())
                .await
                .unwrap();
        }
    }

    /// Creates `username` with `roles`, then logs them in through an MFA console, enrolling
    /// TOTP on the way, and returns their token for `scope` (amr pwd, otp, mfa).
    pub async fn admin_person(&self, username: &str, roles: &[&str], scope: &str) -> AdminPerson {
        let user_id = self.create_user(username).await;
        self.grant_roles(username, roles).await;
        let console = self.admin_console(true).await;
        let browser = Browser::new();
        let url = self.authorize_url(&console, &[("scope", scope)]);
        let login = match browser.visit(self, &url).await {
            Followed::Page { body, .. } => body,
            other => panic!("expected the login page: {other:?}"),
        };
        let response = browser
            .submit_login(self, &login, username, crate::PASSWORD)
            .await;
        let page = match browser.follow(&self.issuer, response).await {
            Followed::Page { body, .. } if is_enrolment(&body) => body,
            other => panic!("expected the enrolment page: {other:?}"),
        };
        let (secret, callback) = enrol_on(self, &browser, &page).await;
        let tokens = self.tokens_from(&console, &callback).await;
        AdminPerson {
            user_id,
            token: text(&tokens, "access_token").to_string(),
            totp_secret: Some(secret),
        }
    }

    /// Like [`TestServer::admin_person`], but the login uses the password alone (amr pwd).
    pub async fn password_only_admin(
        &self,
        username: &str,
        roles: &[&str],
        scope: &str,
    ) -> AdminPerson {
        let user_id = self.create_user(username).await;
        self.grant_roles(username, roles).await;
        let console = self.admin_console(false).await;
        let tokens = self.tokens_for(&console, username, scope).await;
        AdminPerson {
            user_id,
            token: text(&tokens, "access_token").to_string(),
            totp_secret: None,
        }
    }

    /// An admin API request with `token`, a JSON body and extra headers.
    pub async fn admin_with(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let url = self.url(&format!("/admin/v1{path}"));
        let mut request = http_client().request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    /// The most recent audit event of type `action`, its detail parsed.
    pub async fn last_event(&self, action: &str) -> (String, Option<String>, Value) {
        let events = self.provider.store().recent_audit_events(50).await.unwrap();
        let event = events
            .iter()
            .find(|e| e.event_type == action)
            .unwrap_or_else(|| panic!("no {action} event in {events:?}"));
        let detail = serde_json::from_str(&event.detail).unwrap();
        (event.outcome.clone(), event.user_id.clone(), detail)
    }

    /// An admin API request with `token` (if any) and a JSON body (if any).
    pub async fn admin(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = http_client().request(method, self.url(&format!("/admin/v1{path}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }
}

/// The status and problem-details body of an admin API answer, checking its media type.
pub async fn problem(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(media, "application/problem+json", "status {status}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"].as_u64(), Some(u64::from(status)), "{body}");
    (status, body)
}
