//! What the answers must look like: assertions and small requests shared by the
//! error-path tests, each written against the spec text it cites.

use reqwest::header::HeaderMap;
use reqwest::Response;
use serde_json::Value;
use url::{Position, Url};

use crate::{
    location, query_param, Browser, Followed, TestClient, TestServer, REDIRECT_URI, STATE,
};

/// The one message of a failed login, whatever was wrong.
pub const LOGIN_FAILED: &str = "Incorrect username or password.";
/// A well-formed PKCE verifier (RFC 7636 §4.1) that is not [`PKCE_VERIFIER`].
pub const OTHER_VERIFIER: &str = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// RFC 6749 §4.1.2.1: while the client or its redirect URI is untrusted, the person is told
/// on a page and the browser goes nowhere. Returns the page.
pub async fn assert_error_page(response: Response, error: &str) -> String {
    assert_eq!(response.status(), 400);
    assert_eq!(
        location(&response),
        None,
        "an untrusted request was redirected"
    );
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let body = response.text().await.unwrap();
    assert!(body.contains(&format!("Error: {error}")), "{body}");
    body
}

/// RFC 6749 §4.1.2.1: once client and redirect URI are trusted, the error goes back to the
/// client with its `state`, and the response names the issuer (RFC 9207 §2).
pub fn assert_error_redirect(server: &TestServer, response: &Response, error: &str) {
    assert_eq!(response.status(), 303);
    let to = location(response).expect("a redirect to the client");
    assert_eq!(
        &Url::parse(&to).unwrap()[..Position::AfterPath],
        REDIRECT_URI
    );
    assert_eq!(query_param(&to, "error").as_deref(), Some(error), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), Some(STATE), "{to}");
    assert_eq!(
        query_param(&to, "iss").as_deref(),
        Some(server.issuer.as_str())
    );
    assert_eq!(query_param(&to, "code"), None, "{to}");
}

/// The browser is sent to the hosted login page.
pub fn assert_sent_to_login(server: &TestServer, response: &Response) {
    assert_eq!(response.status(), 303);
    assert_eq!(location(response), Some(server.url("/login")));
}

/// RFC 6749 §5.2: a JSON error with this status; RFC 6749 §5.1: never cached.
pub async fn assert_token_error(response: Response, status: u16, error: &str) -> HeaderMap {
    assert_eq!(response.status(), status);
    let headers = response.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    headers
}

/// RFC 6749 §5.1: a token response, never cached. Returns the access token.
pub async fn assert_tokens(response: Response) -> String {
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_string()
}

/// RFC 6750 §3: the `WWW-Authenticate` challenge of a refused request.
pub fn challenge(response: &Response) -> String {
    let value = response.headers().get("www-authenticate");
    value.expect("a challenge").to_str().unwrap().to_string()
}

/// The body of a response that must be a 200 page.
pub async fn page_of(response: Response) -> String {
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The page a chain of redirects ended on, which must be a 200.
pub fn page(followed: Followed) -> String {
    match followed {
        Followed::Page { status, body } if status == 200 => body,
        other => panic!("expected a page, got {other:?}"),
    }
}

pub async fn userinfo(server: &TestServer, access_token: &str) -> Response {
    let request = reqwest::Client::new().get(server.url("/userinfo"));
    request.bearer_auth(access_token).send().await.unwrap()
}

/// A confidential client's access token, for user `alice` (created here).
pub async fn alice_access_token(server: &TestServer, client: &TestClient) -> String {
    server.create_user("alice").await;
    let url = server.authorize_url(client, &[]);
    let code = Browser::new()
        .authorization_code(server, &url, "alice")
        .await;
    assert_tokens(server.redeem(client, &code, None).await).await
}

/// The login page for `client`, reached in `browser`.
pub async fn login_page(server: &TestServer, browser: &Browser, client: &TestClient) -> String {
    page(
        browser
            .visit(server, &server.authorize_url(client, &[]))
            .await,
    )
}
