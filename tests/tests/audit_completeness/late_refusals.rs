//! Attempts refused where no form check looks: a body the authorization endpoint cannot
//! read, the passkey requests and forms with a forged token or no interaction, a form posted
//! at a step the interaction is not at, the account form without a session, a forged logout
//! confirmation, and a method or path no endpoint takes. Each is one failure event, with the
//! reason written out, on a `localhost` issuer so that passkeys are offered.

use reqwest::{Method, Response};
use serde_json::json;
use tessera_core::unix_now;
use tessera_e2e::admin::problem;
use tessera_e2e::expect::*;
use tessera_e2e::factors::{submit_code, totp};
use tessera_e2e::trail::{failure, success, Trail};
use tessera_e2e::{
    engines, hidden_field, http_client, location, Browser, TestClient, TestServer, PASSWORD,
};

use super::{enrol, form_of, web_client};

/// A browser at the login page of a new interaction for `web`; returns the page's token.
async fn at_login(trail: &mut Trail<'_>, browser: &Browser, web: &TestClient) -> String {
    let server = trail.server;
    let login = login_page(server, browser, web).await;
    let client = Some(web.id.as_str());
    trail
        .one("a request", success("authorization.request", None, client))
        .await;
    hidden_field(&login, "csrf").unwrap()
}

/// OIDC Core §3.1.2.1 lets the request come as a form: one that is not a form, or is too
/// large to read, is refused like a query that does not parse.
async fn unreadable_authorization_forms(trail: &mut Trail<'_>) {
    let server = trail.server;
    let url = server.url("/authorize");
    let response = http_client()
        .post(&url)
        .header("content-type", "text/plain")
        .body("client_id=x")
        .send()
        .await
        .unwrap();
    assert_error_page(response, "invalid_request").await;
    let detail = trail
        .one("not a form", failure("authorization.request", None, None))
        .await;
    assert_eq!(detail, json!({ "reason": "malformed_body" }));

    // Larger than the server's 64 KiB body limit.
    let response = http_client()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("client_id={}", "x".repeat(70_000)))
        .send()
        .await
        .unwrap();
    assert_error_page(response, "invalid_request").await;
    let detail = trail
        .one("too large", failure("authorization.request", None, None))
        .await;
    assert_eq!(detail, json!({ "reason": "malformed_body" }));
}

/// The passkey requests: the options' `X-CSRF-Token` and the form's `csrf` are the
/// interaction's, and the form needs a live interaction.
async fn passkey_requests(trail: &mut Trail<'_>, web: &TestClient) {
    let server = trail.server;
    let client = Some(web.id.as_str());
    let browser = Browser::new();
    let csrf = at_login(trail, &browser, web).await;

    browser
        .webauthn_options_json(server, "/passkey-login/options", &csrf)
        .await;
    trail.none("options with the page's token").await;
    let ceremonies = [
        ("/passkey-login/options", "login.passwordless", client),
        ("/passkey-factor/options", "login.webauthn", None),
        ("/passkey-enrol/options", "login.webauthn", None),
    ];
    for (path, event_type, client) in ceremonies {
        let response = browser.webauthn_options(server, path, "forged").await;
        assert_eq!(response.status(), 400, "{path}");
        let detail = trail.one(path, failure(event_type, None, client)).await;
        assert_eq!(detail, json!({ "reason": "csrf" }), "{path}");
    }

    let response = browser
        .post_credential(server, "/passkey-login", "forged", "{}")
        .await;
    assert_error_page(response, "invalid_request").await;
    let detail = trail
        .one(
            "a forged passkey form",
            failure("login.passwordless", None, client),
        )
        .await;
    assert_eq!(detail, json!({ "reason": "csrf" }));

    let response = Browser::new()
        .post_credential(server, "/passkey-login", &csrf, "{}")
        .await;
    assert_eq!(response.status(), 400);
    let detail = trail
        .one("no interaction", failure("login.passwordless", None, None))
        .await;
    assert_eq!(detail, json!({ "reason": "interaction_gone" }));
}

/// Forms posted, with the page's own token, at a step the interaction is not at: consent
/// and a second factor before the password, and a code after the factor was given. The
/// browser is sent to the step it is at, and the attempt is recorded.
async fn steps_out_of_order(trail: &mut Trail<'_>, web: &TestClient, alice: &str, secret: &[u8]) {
    let server = trail.server;
    let client = Some(web.id.as_str());
    let browser = Browser::new();
    let csrf = at_login(trail, &browser, web).await;
    let forms = [
        ("/consent", "consent"),
        ("/factor", "login.totp"),
        ("/passkey-factor", "login.webauthn"),
    ];
    for (path, event_type) in forms {
        let fields = [
            ("csrf", csrf.as_str()),
            ("decision", "approve"),
            ("code", "123456"),
            ("credential", "{}"),
        ];
        let response = browser.post_form(&server.url(path), &fields).await;
        assert_sent_to_login(server, &response);
        let detail = trail.one(path, failure(event_type, None, None)).await;
        assert_eq!(detail, json!({ "reason": "out_of_order" }), "{path}");
    }

    let login = form_of(browser.get(&server.url("/login")).await).await;
    let response = browser
        .submit_login(server, &login, "alice", PASSWORD)
        .await;
    assert_eq!(location(&response), Some(server.url("/factor")));
    trail
        .one("a password", success("login.password", Some(alice), client))
        .await;
    let page = form_of(browser.get(&server.url("/factor")).await).await;
    // The next step's code: the enrolment spent the current one (RFC 6238 §5.2).
    let right = totp(secret, unix_now() + 30);
    let response = submit_code(server, &browser, &page, &right).await;
    assert_eq!(location(&response), Some(server.url("/resume")));
    trail
        .one("a code", success("login.totp", Some(alice), client))
        .await;

    let response = submit_code(server, &browser, &page, "000000").await;
    assert_sent_to_login(server, &response);
    let detail = trail
        .one("a code after the factor", failure("login.totp", None, None))
        .await;
    assert_eq!(detail, json!({ "reason": "out_of_order" }));
}

/// The account form without a session: nothing to check it against, so the page is loaded
/// again (which logs in), and the attempt is recorded.
async fn account_form_without_session(trail: &mut Trail<'_>) {
    let server = trail.server;
    let fields = [("csrf", "x"), ("action", "end_device"), ("device", "d")];
    let response = Browser::new()
        .post_form(&server.url("/account"), &fields)
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), Some(server.url("/account")));
    let detail = trail
        .one("no session", failure("account.request", None, None))
        .await;
    assert_eq!(detail, json!({ "reason": "no_session" }));
}

/// RP-Initiated Logout §2: a confirmation whose token is not the session's ends nothing and
/// asks again; the person's own confirmation still ends the session.
async fn forged_logout_confirmation(trail: &mut Trail<'_>, browser: &Browser, bob: &str) {
    let server = trail.server;
    let url = server.url("/logout");

    let response = browser.post_form(&url, &[("csrf", "forged")]).await;
    let page = form_of(response).await;
    let csrf = hidden_field(&page, "csrf").expect("the confirmation asked again");
    let detail = trail
        .one("a forged confirmation", failure("logout", Some(bob), None))
        .await;
    assert_eq!(detail, json!({ "reason": "csrf" }));

    let response = browser.post_form(&url, &[("csrf", csrf.as_str())]).await;
    assert_eq!(response.status(), 200);
    trail
        .one("the confirmation", success("logout", Some(bob), None))
        .await;
}

/// A request and the answer it must still get: status, `Allow` header, empty body.
async fn assert_405(response: Response, allow: &str) {
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], allow);
    assert_eq!(response.text().await.unwrap(), "");
}

/// RFC 9110 §15.5.6: a method an endpoint does not take is a 405 with `Allow`, and an
/// attempt on that endpoint. Public metadata and CORS preflights record nothing.
async fn wrong_methods(trail: &mut Trail<'_>) {
    let server = trail.server;
    let calls = [
        (Method::GET, "/token", "POST", "token.request"),
        (Method::PUT, "/userinfo", "GET,HEAD,POST", "userinfo"),
        (Method::GET, "/revoke", "POST", "token.revocation"),
        (Method::DELETE, "/introspect", "POST", "token.introspection"),
        (
            Method::PUT,
            "/authorize",
            "GET,HEAD,POST",
            "authorization.request",
        ),
        (Method::GET, "/passkey-login", "POST", "login.passwordless"),
    ];
    for (method, path, allow, event_type) in calls {
        let response = http_client()
            .request(method, server.url(path))
            .send()
            .await
            .unwrap();
        assert_405(response, allow).await;
        let detail = trail.one(path, failure(event_type, None, None)).await;
        assert_eq!(detail, json!({ "reason": "method_not_allowed" }), "{path}");
    }

    let response = http_client()
        .post(server.url("/jwks"))
        .send()
        .await
        .unwrap();
    assert_405(response, "GET,HEAD").await;
    trail.none("public metadata").await;
    let response = http_client()
        .request(Method::OPTIONS, server.url("/token"))
        .header("origin", "http://127.0.0.1:9")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    trail.none("a CORS preflight").await;
}

/// The admin API: a method an endpoint does not take, and a path below the prefix that
/// names none, with or without a token, are `admin.refused`; a path outside the API is not
/// an admin call.
async fn wrong_admin_calls(trail: &mut Trail<'_>, token: &str) {
    let server = trail.server;
    for bearer in [None, Some(token)] {
        let response = server.admin(Method::DELETE, bearer, "/users", None).await;
        let (status, body) = problem(response).await;
        assert_eq!((status, body["status"].as_u64()), (405, Some(405)));
        let detail = trail
            .one("a wrong method", failure("admin.refused", None, None))
            .await;
        let expected = json!({
            "reason": "method_not_allowed",
            "method": "DELETE",
            "path": "/admin/v1/users",
        });
        assert_eq!(detail, expected);

        let response = server.admin(Method::GET, bearer, "/no-such", None).await;
        let (status, _) = problem(response).await;
        assert_eq!(status, 404);
        let detail = trail
            .one("an unknown path", failure("admin.refused", None, None))
            .await;
        let expected = json!({
            "reason": "unknown_route",
            "method": "GET",
            "path": "/admin/v1/no-such",
        });
        assert_eq!(detail, expected);
    }

    // A call refused for its token names the path as sent, prefix included, as these do.
    let response = server.admin(Method::GET, None, "/users", None).await;
    assert_eq!(problem(response).await.0, 401);
    let detail = trail
        .one("no token", failure("admin.refused", None, None))
        .await;
    let expected = json!({
        "reason": "invalid_token",
        "method": "GET",
        "path": "/admin/v1/users",
    });
    assert_eq!(detail, expected);

    let response = http_client()
        .get(server.url("/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    trail.none("a path outside the API").await;
}

#[tokio::test]
async fn refusals_beyond_the_form_checks_are_one_event_each() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let bob = server.create_user("bob").await;
        let web = web_client(&server).await;
        let mfa = server.create_mfa_client().await;
        let mut enrolment = Trail::after_setup(&server).await;
        let (secret, _) = enrol(&mut enrolment, &mfa, &alice).await;
        let (_, token) = server.service_token("admin:users:read").await;
        let signed_in = Browser::new();
        signed_in
            .sign_in(&server, &server.authorize_url(&web, &[]), "bob")
            .await;
        let mut trail = Trail::after_setup(&server).await;

        unreadable_authorization_forms(&mut trail).await;
        passkey_requests(&mut trail, &web).await;
        steps_out_of_order(&mut trail, &web, &alice, &secret).await;
        account_form_without_session(&mut trail).await;
        forged_logout_confirmation(&mut trail, &signed_in, &bob).await;
        wrong_methods(&mut trail).await;
        wrong_admin_calls(&mut trail, &token).await;
        server.stop().await;
    }
}
