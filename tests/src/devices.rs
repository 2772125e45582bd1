//! Helpers for the devices tests: browsers that say what they are, an app that takes refresh
//! tokens and back-channel logout, a person's sign-in to it from one browser, and reading the
//! account page's list of devices.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use tessera_core::accounts::{self, NewClientRequest};
use tessera_core::unix_now;

use crate::factors::id_token_claims;
use crate::lifecycle::{assert_tokens_json, text};
use crate::{hidden_field, Browser, TestClient, TestServer, REDIRECT_URI};

/// Firefox 126 on 64-bit Linux, as it sends itself.
pub const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0";
/// Safari on an iPhone running iOS 17.4, as it sends itself.
pub const SAFARI_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

/// What a sign-in to [`app`] gave: the session's `sid` and the tokens.
pub struct AppLogin {
    pub sid: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// An app that is issued refresh tokens and takes back-channel logout notices.
pub async fn app(server: &TestServer) -> TestClient {
    let uris = vec![REDIRECT_URI.to_string()];
    let grants = [
        "authorization_code".to_string(),
        "refresh_token".to_string(),
    ];
    let request = NewClientRequest {
        name: "Notified App",
        redirect_uris: &uris,
        first_party: true,
        id_token_alg: "RS256",
        scope: "openid profile",
        grant_types: &grants,
        backchannel_logout_uri: Some("https://rp.example/backchannel"),
        ..NewClientRequest::default()
    };
    let created = accounts::create_client(server.provider.store(), request, unix_now())
        .await
        .unwrap();
    TestClient {
        id: created.client_id,
        secret: created.client_secret.map(|s| s.expose().to_string()),
        redirect_uri: REDIRECT_URI.to_string(),
    }
}

/// `username` signs in to `client` in `browser`, which keeps the session; the tokens.
pub async fn app_login(
    server: &TestServer,
    browser: &Browser,
    client: &TestClient,
    username: &str,
) -> AppLogin {
    let url = server.authorize_url(client, &[]);
    let code = browser.authorization_code(server, &url, username).await;
    let tokens = assert_tokens_json(server.redeem(client, &code, None).await).await;
    AppLogin {
        sid: id_token_claims(&tokens)["sid"]
            .as_str()
            .unwrap()
            .to_string(),
        access_token: text(&tokens, "access_token").to_string(),
        refresh_token: text(&tokens, "refresh_token").to_string(),
    }
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// How many logout tokens wait in the outbox for `sid` (Back-Channel Logout §2.4).
pub async fn queued_logouts(server: &TestServer, sid: &str) -> usize {
    let due = server
        .provider
        .store()
        .due_logout_deliveries(unix_now() + 1, 50)
        .await
        .unwrap();
    due.iter()
        .filter(|d| claims_of(&d.logout_token)["sid"] == sid)
        .count()
}

/// The account page's entries for devices, in the page's order.
pub fn device_entries(page: &str) -> Vec<&str> {
    page.split("<li class=\"device\">").skip(1).collect()
}

/// The entry of the one device whose heading names `label` ("Firefox 126 on Linux").
pub fn device_entry<'a>(page: &'a str, label: &str) -> &'a str {
    let heading = format!("\">{label}");
    let found: Vec<&str> = device_entries(page)
        .into_iter()
        .filter(|entry| entry.contains(&heading))
        .collect();
    assert_eq!(found.len(), 1, "one device named {label} in {page}");
    found[0]
}

/// The public id of the device an entry lists, from its "End" form.
pub fn device_id_of(entry: &str) -> String {
    hidden_field(entry, "device").expect("the entry has an end form")
}
