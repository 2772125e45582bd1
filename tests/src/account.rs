//! Helpers for the account page tests: reaching the page through its login, submitting its
//! forms, and reading an authenticator's codes as an app would.

use reqwest::Response;
use tessera_core::secret::digest;
use tessera_core::unix_now;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::{hidden_field, location, Browser, Followed, TestServer, PASSWORD};

/// The 6-digit SHA-1 code of `secret` at `time`, as an authenticator app shows it (RFC 6238
/// §4 defaults).
pub fn totp(secret: &[u8], time: i64) -> String {
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec()).unwrap();
    totp.generate(u64::try_from(time).unwrap())
}

/// The secret in the `otpauth://` URI an enrolment page shows as text.
pub fn shown_secret(page: &str) -> Vec<u8> {
    let start = page
        .find("otpauth://totp/")
        .expect("the otpauth URI as text");
    let rest = &page[start..];
    let end = rest.find('<').unwrap_or(rest.len());
    let uri = url::Url::parse(&rest[..end].replace("&amp;", "&")).unwrap();
    let secret = uri
        .query_pairs()
        .find(|(name, _)| name == "secret")
        .map(|(_, value)| value.into_owned())
        .expect("a secret in the otpauth URI");
    Secret::Encoded(secret).to_bytes().unwrap()
}

/// The recovery codes a page lists.
pub fn listed_codes(page: &str) -> Vec<String> {
    page.split("<li><code>")
        .skip(1)
        .map(|rest| rest.split("</code>").next().unwrap().to_string())
        .collect()
}

/// Opens `/account` in `browser`, which has no session, and logs `username` in with the
/// kit's password; the account page it returns to. For a person without a second factor.
pub async fn sign_in_to_account(server: &TestServer, browser: &Browser, username: &str) -> String {
    let login = match browser.visit(server, &server.url("/account")).await {
        Followed::Page { status, body } if status == 200 => body,
        other => panic!("no login page: {other:?}"),
    };
    assert!(login.contains("your account"), "{login}");
    let response = browser
        .submit_login(server, &login, username, PASSWORD)
        .await;
    assert_eq!(location(&response), Some(server.url("/resume")));
    match browser.follow(&server.issuer, response).await {
        Followed::Page { status, body } if status == 200 => body,
        other => panic!("not back on the account page: {other:?}"),
    }
}

/// Submits the account form for `action` on `page`, with its CSRF token and `fields`.
pub async fn submit_action(
    server: &TestServer,
    browser: &Browser,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Response {
    let csrf = hidden_field(page, "csrf").expect("the account page has a CSRF field");
    let mut form = vec![("csrf", csrf.as_str()), ("action", action)];
    form.extend_from_slice(fields);
    browser.post_form(&server.url("/account"), &form).await
}

/// The fields of the password form.
pub fn password_fields<'a>(
    current: &'a str,
    new: &'a str,
    confirm: &'a str,
) -> [(&'a str, &'a str); 3] {
    [
        ("current_password", current),
        ("new_password", new),
        ("confirm_password", confirm),
    ]
}

/// The public `sid` of the session `browser` holds: what its account events carry.
pub async fn session_sid(server: &TestServer, browser: &Browser) -> String {
    let cookie = browser
        .cookie(server, "tessera-session")
        .expect("a session");
    let store = server.provider.store();
    let session = store.session(&digest(&cookie), unix_now()).await.unwrap();
    session.expect("a live session").sid.expect("a sid")
}
