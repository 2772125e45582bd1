//! A password an administrator sets with `must_change_password` is replaced at the person's
//! next login: after the password step, before anything else, by a form with CSRF, the
//! password policy and a confirmation. Each refusal is tested on its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::json;
use tessera_e2e::admin_users::USERS_RW;
use tessera_e2e::expect::{assert_error_page, assert_sent_to_login, page, page_of};
use tessera_e2e::factors::is_enrolment;
use tessera_e2e::{engines, hidden_field, location, Browser, Followed, TestClient, TestServer};

const TEMPORARY: &str = "temporary passphrase one";
const CHOSEN: &str = "my very own passphrase";

/// Alice, whose password an administrator just set to [`TEMPORARY`], to be changed.
async fn alice_must_change(server: &TestServer) -> String {
    let id = server.create_user("alice").await;
    let (_, token) = server.service_token(USERS_RW).await;
    let body = json!({ "password": TEMPORARY, "must_change_password": true });
    let response = server
        .admin_with(
            Method::PUT,
            Some(&token),
            &format!("/users/{id}/password"),
            Some(&body),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(response.status(), 200);
    id
}

/// Logs alice in to `client` with the temporary password; the new-password page.
async fn new_password_form(server: &TestServer, browser: &Browser, client: &TestClient) -> String {
    let login = page(
        browser
            .visit(server, &server.authorize_url(client, &[]))
            .await,
    );
    let response = browser
        .submit_login(server, &login, "alice", TEMPORARY)
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), Some(server.url("/new-password")));
    let form = page(browser.follow(&server.issuer, response).await);
    assert!(form.contains("Choose a new password"), "{form}");
    form
}

async fn submit(
    server: &TestServer,
    browser: &Browser,
    csrf: &str,
    new: &str,
    confirm: &str,
) -> reqwest::Response {
    let form = [
        ("csrf", csrf),
        ("new_password", new),
        ("confirm_password", confirm),
    ];
    browser.post_form(&server.url("/new-password"), &form).await
}

/// The whole login: password, new password, then on to the app with a code; the person
/// no longer must change it, and the change is recorded.
#[tokio::test]
async fn a_required_password_change_happens_at_the_next_login() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let id = alice_must_change(&server).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        let form = new_password_form(&server, &browser, &client).await;
        // The password step opened no session: the login is not over yet.
        assert_eq!(browser.cookie(&server, "tessera-session"), None);

        let csrf = hidden_field(&form, "csrf").unwrap();
        let response = submit(&server, &browser, &csrf, CHOSEN, CHOSEN).await;
        let callback = match browser.follow(&server.issuer, response).await {
            Followed::LeftIssuer(url) => url,
            other => panic!("expected the redirect to the app: {other:?}"),
        };
        server.tokens_from(&client, &callback).await;

        let stored = server
            .provider
            .store()
            .user_by_id(&id)
            .await
            .unwrap()
            .unwrap();
        let hasher = tessera_core::password::PasswordHasher::new(1).unwrap();
        assert!(
            hasher
                .verify(CHOSEN.to_string().into(), stored.password_hash)
                .await
        );
        assert!(!server
            .provider
            .store()
            .must_change_password(&id)
            .await
            .unwrap());
        let (outcome, _) = server.last_outcome("login.password_change").await;
        assert_eq!(outcome, "success");

        // The next login asks for nothing more than the new password.
        let again = Browser::new();
        let login_page = page(
            again
                .visit(&server, &server.authorize_url(&client, &[]))
                .await,
        );
        let response = again
            .submit_login(&server, &login_page, "alice", CHOSEN)
            .await;
        assert!(matches!(
            again.follow(&server.issuer, response).await,
            Followed::LeftIssuer(_)
        ));
        server.stop().await;
    }
}

/// The change comes before the second factor: an app that requires one still gets its
/// step (here, enrolment) after the new password.
#[tokio::test]
async fn the_second_factor_follows_the_new_password() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        alice_must_change(&server).await;
        let console = server.admin_console(true).await;
        let browser = Browser::new();
        let form = new_password_form(&server, &browser, &console).await;
        let csrf = hidden_field(&form, "csrf").unwrap();
        let response = submit(&server, &browser, &csrf, CHOSEN, CHOSEN).await;
        assert_eq!(location(&response), Some(server.url("/factor")));
        let next = page(browser.follow(&server.issuer, response).await);
        assert!(is_enrolment(&next), "{next}");
        server.stop().await;
    }
}

/// Refusals, each alone: a wrong CSRF token ends in the error page; a password the policy
/// refuses, or a confirmation that differs, shows the form again with the reason; the
/// password stays the temporary one, and the form stays owed.
#[tokio::test]
async fn a_new_password_is_refused_for_each_broken_rule() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let id = alice_must_change(&server).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        let form = new_password_form(&server, &browser, &client).await;
        let csrf = hidden_field(&form, "csrf").unwrap();

        let response = submit(&server, &browser, "forged", CHOSEN, CHOSEN).await;
        assert_error_page(response, "invalid_request").await;
        let (outcome, detail) = server.last_outcome("login.password_change").await;
        assert_eq!(
            (outcome.as_str(), detail["reason"].as_str()),
            ("failure", Some("csrf"))
        );

        let response = submit(&server, &browser, &csrf, "short", "short").await;
        let shown = page_of(response).await;
        assert!(shown.contains("Use at least"), "{shown}");
        let (_, detail) = server.last_outcome("login.password_change").await;
        assert_eq!(detail["reason"], "policy");

        let response = submit(&server, &browser, &csrf, "password1234", "password1234").await;
        assert!(page_of(response).await.contains("too common"));

        let response = submit(&server, &browser, &csrf, CHOSEN, "my very own passphrasE").await;
        assert!(page_of(response)
            .await
            .contains("The two new passwords differ"));
        let (_, detail) = server.last_outcome("login.password_change").await;
        assert_eq!(detail["reason"], "confirmation_differs");

        assert!(server
            .provider
            .store()
            .must_change_password(&id)
            .await
            .unwrap());
        let stored = server
            .provider
            .store()
            .user_by_id(&id)
            .await
            .unwrap()
            .unwrap();
        let hasher = tessera_core::password::PasswordHasher::new(1).unwrap();
        assert!(
            hasher
                .verify(TEMPORARY.to_string().into(), stored.password_hash)
                .await
        );

        // The form is still there, and still works.
        let response = submit(&server, &browser, &csrf, CHOSEN, CHOSEN).await;
        assert!(matches!(
            browser.follow(&server.issuer, response).await,
            Followed::LeftIssuer(_)
        ));
        server.stop().await;
    }
}

/// Without a password verified in this interaction there is no form to reach, and no way
/// around it: the second-factor step is not open either.
#[tokio::test]
async fn the_form_cannot_be_reached_without_the_password() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        alice_must_change(&server).await;
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        page(
            browser
                .visit(&server, &server.authorize_url(&client, &[]))
                .await,
        );
        let response = browser.get(&server.url("/new-password")).await;
        assert_error_page(response, "invalid_request").await;

        let owed = Browser::new();
        new_password_form(&server, &owed, &client).await;
        let response = owed.get(&server.url("/factor")).await;
        assert_sent_to_login(&server, &response);
        server.stop().await;
    }
}
