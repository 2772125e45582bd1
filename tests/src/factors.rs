//! Second factors as a person's devices see them: TOTP codes computed from the secret an
//! enrolment page shows (RFC 6238, as an authenticator app would), enrolment through the
//! hosted pages, and the claims of the ID token a login ends with.

use serde_json::Value;
use tessera_core::accounts;
use tessera_core::mfa::MfaPolicy;
use tessera_core::unix_now;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::expect::page_of;
use crate::lifecycle::{assert_tokens_json, text};
use crate::{hidden_field, query_param, Browser, Followed, TestClient, TestServer};

/// The 6-digit SHA-1 code of `secret` at `time`, as an authenticator app shows it.
pub fn totp(secret: &[u8], time: i64) -> String {
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec()).unwrap();
    totp.generate(u64::try_from(time).unwrap())
}

/// The secret in the `otpauth://` URI an enrolment page shows as text.
pub fn shown_secret(page: &str) -> Vec<u8> {
    let uri_start = page
        .find("otpauth://totp/")
        .expect("the otpauth URI as text");
    let secret = page[uri_start..]
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    Secret::Encoded(secret).to_bytes().unwrap()
}

/// Whether `page` is the enrolment page (it shows a secret to scan).
pub fn is_enrolment(page: &str) -> bool {
    page.contains("otpauth://totp/")
}

/// Whether `page` asks for a code from an authenticator the person already has.
pub fn is_code_form(page: &str) -> bool {
    page.contains("autocomplete=\"one-time-code\"") && !is_enrolment(page)
}

/// Submits `code` on the factor page `page`.
pub async fn submit_code(
    server: &TestServer,
    browser: &Browser,
    page: &str,
    code: &str,
) -> reqwest::Response {
    let csrf = hidden_field(page, "csrf").expect("the factor page has a CSRF field");
    browser
        .post_form(&server.url("/factor"), &[("csrf", &csrf), ("code", code)])
        .await
}

/// Enrols with the first code of the secret `page` shows, then continues the interaction
/// past the recovery codes; returns the secret and where the browser finally went.
pub async fn enrol_on(server: &TestServer, browser: &Browser, page: &str) -> (Vec<u8>, String) {
    let secret = shown_secret(page);
    let response = submit_code(server, browser, page, &totp(&secret, unix_now())).await;
    let shown = page_of(response).await;
    assert!(shown.contains("<li><code>"), "recovery codes: {shown}");
    match browser.visit(server, &server.url("/resume")).await {
        Followed::LeftIssuer(callback) => (secret, callback),
        other => panic!("the enrolment did not finish: {other:?}"),
    }
}

impl TestServer {
    /// A first-party client (no consent page) whose logins require a second factor.
    pub async fn create_mfa_client(&self) -> TestClient {
        let client = self.create_client(false, true).await;
        accounts::set_client_mfa(
            self.provider.store(),
            &client.id,
            Some(MfaPolicy::Required),
            unix_now(),
        )
        .await
        .unwrap();
        client
    }

    /// Enrols `username` in a TOTP authenticator through a login, in a browser of its own,
    /// to a client that requires a factor; returns the secret.
    pub async fn enrol_totp(&self, username: &str) -> Vec<u8> {
        let client = self.create_mfa_client().await;
        let browser = Browser::new();
        let login = crate::expect::login_page(self, &browser, &client).await;
        let response = browser
            .submit_login(self, &login, username, crate::PASSWORD)
            .await;
        let page = match browser.follow(&self.issuer, response).await {
            Followed::Page { body, .. } if is_enrolment(&body) => body,
            other => panic!("expected the enrolment page: {other:?}"),
        };
        enrol_on(self, &browser, &page).await.0
    }

    /// Redeems the code in `callback` as `client` and returns the token response.
    pub async fn tokens_from(&self, client: &TestClient, callback: &str) -> Value {
        let code = query_param(callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));
        assert_tokens_json(self.redeem(client, &code, None).await).await
    }
}

/// The claims of the ID token in a token response, unverified (the tests that check
/// signatures live elsewhere; these read what the provider asserted).
pub fn id_token_claims(tokens: &Value) -> Value {
    use base64::Engine;
    let payload = text(tokens, "id_token").split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The `amr` of ID token claims, as strings.
pub fn amr(claims: &Value) -> Vec<String> {
    serde_json::from_value(claims["amr"].clone()).unwrap()
}
