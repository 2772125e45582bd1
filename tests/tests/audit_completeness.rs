//! Every access attempt leaves exactly one audit event (issue 6, "Continuous monitoring").
//!
//! Each endpoint a client or a person reaches is driven once with a success and once with
//! each kind of failure they can cause; after every request the trail must hold exactly one
//! new event, of the type and outcome written out here, naming the person and the client
//! whenever the request made them known. Pages that only show a form (the login, factor and
//! consent pages, a redirect hop such as `/resume` that decides nothing) are not attempts:
//! after them the trail must hold no new event at all, which also catches a duplicate.
//!
//! Discovery and JWKS are left out on purpose: they are public metadata that anyone may
//! read, not attempts to access anything, and recording them would fill the trail with
//! every relying party's cache refreshes.
//!
//! The outcome follows the answer: a refused login is shown the login page again with a
//! 200 (a form has no HTTP challenge), so for pages the test reads the page itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::{Method, Response};
use serde_json::Value;
use tessera_core::throttle::ThrottleSettings;
use tessera_core::unix_now;
use tessera_e2e::admin::ALL_ADMIN_SCOPES;
use tessera_e2e::expect::*;
use tessera_e2e::factors::{is_enrolment, shown_secret, submit_code, totp};
use tessera_e2e::lifecycle::{assert_tokens_json, text, ClientSpec};
use tessera_e2e::trail::{failure, success, Trail};
use tessera_e2e::{
    engines, hidden_field, http_client, location, query_param, Browser, Followed, TestClient,
    TestServer, PASSWORD,
};
use tessera_server::ServerOptions;
use tessera_store::Engine;

// In a folder of its own: a file beside this one would be a test binary of its own.
#[path = "audit_completeness/late_refusals.rs"]
mod late_refusals;

/// Delays begin after two failed passwords or codes per account; addresses and clients are
/// left free, since every request here comes from one address. The delay outlasts the test.
async fn start(engine: Engine) -> TestServer {
    TestServer::start_configured(engine, ServerOptions::default(), |settings| {
        settings.throttle = ThrottleSettings {
            account_free_failures: 2,
            client_free_failures: 10_000,
            address_free_failures: 10_000,
            first_delay: 600,
            max_delay: 600,
            forget_after: 86_400,
        };
    })
    .await
}

/// A confidential client with a consent page, for codes and refresh tokens.
async fn web_client(server: &TestServer) -> TestClient {
    server
        .create_client_spec(ClientSpec {
            first_party: false,
            grant_types: &["authorization_code", "refresh_token"],
            ..ClientSpec::default()
        })
        .await
}

/// Enrols alice in TOTP through `client`, which requires it; returns the secret and the
/// recovery codes the enrolment showed. The confirming code is one attempt: one `login.totp`
/// event, which says what it enrolled and that it made the recovery codes, in the new
/// session, with the password step's risk score.
async fn enrol(trail: &mut Trail<'_>, client: &TestClient, alice: &str) -> (Vec<u8>, Vec<String>) {
    let server = trail.server;
    let browser = Browser::new();
    let login = login_page(server, &browser, client).await;
    let response = browser
        .submit_login(server, &login, "alice", PASSWORD)
        .await;
    let page = match browser.follow(&server.issuer, response).await {
        Followed::Page { body, .. } if is_enrolment(&body) => body,
        other => panic!("expected the enrolment page: {other:?}"),
    };
    let before = trail.exactly("the request and the password", 2).await;
    let secret = shown_secret(&page);
    let response = submit_code(server, &browser, &page, &totp(&secret, unix_now())).await;
    let shown = page_of(response).await;
    let codes = shown
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(codes.len(), 10, "{shown}");

    let expected = success("login.totp", Some(alice), Some(client.id.as_str()));
    let enrolled = trail.event("a TOTP enrolment", expected).await;
    let detail: Value = serde_json::from_str(&enrolled.detail).unwrap();
    assert_eq!(
        detail,
        serde_json::json!({ "enrolled": "totp", "recovery_codes": 10 })
    );
    // The enrolment ended every other session: alice's one session is the new one.
    let sids = server.provider.store().session_sids(alice, None).await;
    assert_eq!(
        enrolled.session_id.into_iter().collect::<Vec<_>>(),
        sids.unwrap()
    );
    let password = &before[1];
    assert_eq!(password.event_type, "login.password");
    assert_eq!(
        (&enrolled.risk_score, &enrolled.risk_reasons),
        (&password.risk_score, &password.risk_reasons)
    );
    (secret, codes)
}

async fn form_of(response: Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// The authorization endpoint, the password login and the consent page; returns bob's
/// browser, signed in, with the code the approval issued.
async fn authorize_login_and_consent(
    trail: &mut Trail<'_>,
    web: &TestClient,
    bob: &str,
) -> (Browser, String) {
    let server = trail.server;
    let browser = Browser::new();
    let client = Some(web.id.as_str());

    let response = browser.get(&server.authorize_url(web, &[])).await;
    assert_sent_to_login(server, &response);
    trail
        .one(
            "a valid request",
            success("authorization.request", None, client),
        )
        .await;

    let login = form_of(browser.get(&server.url("/login")).await).await;
    trail.none("the login page").await;

    let response = browser.submit_login(server, &login, "bob", "wrong").await;
    assert!(form_of(response).await.contains(LOGIN_FAILED));
    let detail = trail
        .one(
            "a wrong password",
            failure("login.password", Some(bob), client),
        )
        .await;
    assert_eq!(detail["reason"], "bad_password");

    let response = browser
        .submit_login(server, &login, "nobody", "wrong")
        .await;
    assert!(form_of(response).await.contains(LOGIN_FAILED));
    let detail = trail
        .one("an unknown user", failure("login.password", None, client))
        .await;
    assert_eq!(detail["reason"], "unknown_user");

    let response = browser.submit_login(server, &login, "bob", PASSWORD).await;
    assert_eq!(location(&response), Some(server.url("/resume")));
    trail
        .one(
            "the right password",
            success("login.password", Some(bob), client),
        )
        .await;

    let response = browser.get(&server.url("/resume")).await;
    assert_eq!(location(&response), Some(server.url("/consent")));
    trail.none("the hop to consent").await;
    let consent = form_of(browser.get(&server.url("/consent")).await).await;
    trail.none("the consent page").await;

    let response = browser.approve(server, &consent).await;
    let callback = location(&response).unwrap();
    let code = query_param(&callback, "code").expect("a code");
    trail
        .one("an approval", success("consent", Some(bob), client))
        .await;
    (browser, code)
}

/// A signed-in browser: a code at once when consent is remembered (returned); `prompt=consent`
/// asks again, and the person refuses.
async fn signed_in_requests(
    trail: &mut Trail<'_>,
    browser: &Browser,
    web: &TestClient,
    bob: &str,
) -> String {
    let server = trail.server;
    let client = Some(web.id.as_str());

    let response = browser.get(&server.authorize_url(web, &[])).await;
    let callback = location(&response).unwrap();
    let code = query_param(&callback, "code").expect("a code");
    trail
        .one(
            "a code at once",
            success("authorization.code_issued", Some(bob), client),
        )
        .await;

    let url = server.authorize_url(web, &[("prompt", "consent")]);
    let response = browser.get(&url).await;
    assert_eq!(location(&response), Some(server.url("/consent")));
    trail
        .one(
            "prompt=consent",
            success("authorization.request", None, client),
        )
        .await;
    let consent = form_of(browser.get(&server.url("/consent")).await).await;
    trail.none("the consent page").await;
    let csrf = hidden_field(&consent, "csrf").unwrap();
    let deny = [("csrf", csrf.as_str()), ("decision", "deny")];
    let response = browser.post_form(&server.url("/consent"), &deny).await;
    let callback = location(&response).unwrap();
    assert_eq!(
        query_param(&callback, "error").as_deref(),
        Some("access_denied")
    );
    trail
        .one("a refusal", failure("consent", Some(bob), client))
        .await;
    code
}

/// Requests the authorization endpoint refuses: on an error page (unknown client, a
/// redirect URI not registered), or back at the client (an unsupported response type).
async fn refused_authorization_requests(trail: &mut Trail<'_>, web: &TestClient) {
    let server = trail.server;
    let browser = Browser::new();
    let client = Some(web.id.as_str());

    let url = server.authorize_url(web, &[("client_id", "no-such-client")]);
    assert_error_page(browser.get(&url).await, "invalid_request").await;
    let detail = trail
        .one(
            "an unknown client",
            failure("authorization.request", None, None),
        )
        .await;
    assert_eq!(detail["error"], "invalid_request");

    let url = server.authorize_url(web, &[("redirect_uri", "http://127.0.0.1:9/elsewhere")]);
    assert_error_page(browser.get(&url).await, "invalid_request").await;
    trail
        .one(
            "an unregistered redirect URI",
            failure("authorization.request", None, client),
        )
        .await;

    let url = server.authorize_url(web, &[("response_type", "token")]);
    let response = browser.get(&url).await;
    assert_error_redirect(server, &response, "unsupported_response_type");
    let detail = trail
        .one(
            "an error redirect",
            failure("authorization.request", None, client),
        )
        .await;
    assert_eq!(detail["error"], "unsupported_response_type");
}

/// Past the free failures, a password is refused unchecked: one event still, saying so.
/// The throttle refuses before the username is looked up, so no person is named.
async fn throttled_login(trail: &mut Trail<'_>, web: &TestClient, carol: &str) {
    let server = trail.server;
    let browser = Browser::new();
    let client = Some(web.id.as_str());
    let login = login_page(server, &browser, web).await;
    trail
        .one(
            "a valid request",
            success("authorization.request", None, client),
        )
        .await;
    for _ in 0..2 {
        let response = browser.submit_login(server, &login, "carol", "wrong").await;
        assert!(form_of(response).await.contains(LOGIN_FAILED));
        trail
            .one(
                "a free failure",
                failure("login.password", Some(carol), client),
            )
            .await;
    }
    let response = browser
        .submit_login(server, &login, "carol", PASSWORD)
        .await;
    assert_eq!(response.status(), 429);
    let detail = trail
        .one(
            "a throttled password",
            failure("login.password", None, client),
        )
        .await;
    assert_eq!(detail["reason"], "throttled");
}

/// The password, then the code page: a wrong TOTP code, the right one; a wrong recovery
/// code, a right one.
async fn second_factors(
    trail: &mut Trail<'_>,
    web: &TestClient,
    alice: &str,
    secret: &[u8],
    recovery_code: &str,
) {
    let server = trail.server;
    let client = Some(web.id.as_str());
    // The code of the next step: the enrolment spent the current one (RFC 6238 §5.2).
    let kinds = [
        (
            "login.totp",
            totp(secret, unix_now() - 3600),
            totp(secret, unix_now() + 30),
        ),
        (
            "login.recovery_code",
            "0000-0000-0000".to_string(),
            recovery_code.to_string(),
        ),
    ];
    for (kind, wrong, right) in kinds {
        let browser = Browser::new();
        let login = login_page(server, &browser, web).await;
        trail
            .one(
                "a valid request",
                success("authorization.request", None, client),
            )
            .await;
        let response = browser
            .submit_login(server, &login, "alice", PASSWORD)
            .await;
        assert_eq!(location(&response), Some(server.url("/factor")));
        trail
            .one(
                "a password owing a factor",
                success("login.password", Some(alice), client),
            )
            .await;
        let page = form_of(browser.get(&server.url("/factor")).await).await;
        trail.none("the code page").await;

        let response = submit_code(server, &browser, &page, &wrong).await;
        assert!(form_of(response).await.contains("Incorrect code."));
        trail.one(kind, failure(kind, Some(alice), client)).await;

        let response = submit_code(server, &browser, &page, &right).await;
        assert_eq!(location(&response), Some(server.url("/resume")));
        trail.one(kind, success(kind, Some(alice), client)).await;
    }
}

async fn post_token(server: &TestServer, client: &TestClient, form: &[(&str, &str)]) -> Response {
    let secret = client.secret.as_deref().unwrap();
    server.post_token(Some((&client.id, secret)), form).await
}

/// The token endpoint's code and refresh grants; returns the tokens of the refresh. `code`
/// is redeemed; `other` is redeemed twice, which revokes what its first redemption issued.
async fn code_and_refresh_grants(
    trail: &mut Trail<'_>,
    web: &TestClient,
    bob: &str,
    code: &str,
    other: &str,
) -> Value {
    let server = trail.server;
    let client = Some(web.id.as_str());
    let impostor = TestClient {
        secret: Some("not the secret".into()),
        ..web.clone()
    };

    let tokens = assert_tokens_json(server.redeem(web, code, None).await).await;
    trail
        .one(
            "a code redeemed",
            success("token.authorization_code", Some(bob), client),
        )
        .await;
    assert_tokens_json(server.redeem(web, other, None).await).await;
    trail
        .one(
            "a code redeemed",
            success("token.authorization_code", Some(bob), client),
        )
        .await;
    let again = server.redeem(web, other, None).await;
    assert_token_error(again, 400, "invalid_grant").await;
    trail
        .one(
            "a code replayed",
            failure("token.authorization_code", Some(bob), client),
        )
        .await;
    let wrong_secret = server.redeem(&impostor, code, None).await;
    assert_token_error(wrong_secret, 401, "invalid_client").await;
    trail
        .one(
            "a wrong secret",
            failure("token.client_authentication", None, client),
        )
        .await;

    let refresh_token = text(&tokens, "refresh_token");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let refreshed = assert_tokens_json(post_token(server, web, &form).await).await;
    trail
        .one(
            "a refresh",
            success("token.refresh_token", Some(bob), client),
        )
        .await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "no-such-token"),
    ];
    assert_token_error(post_token(server, web, &form).await, 400, "invalid_grant").await;
    trail
        .one(
            "an unknown refresh token",
            failure("token.refresh_token", None, client),
        )
        .await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    assert_token_error(
        post_token(server, &impostor, &form).await,
        401,
        "invalid_client",
    )
    .await;
    trail
        .one(
            "a wrong secret",
            failure("token.client_authentication", None, client),
        )
        .await;

    let form = [("grant_type", "password")];
    assert_token_error(
        post_token(server, web, &form).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    trail
        .one(
            "an unsupported grant",
            failure("token.request", None, client),
        )
        .await;
    let response = server
        .post_token(None, &[("grant_type", "refresh_token")])
        .await;
    assert_token_error(response, 401, "invalid_client").await;
    trail
        .one(
            "no credentials",
            failure("token.client_authentication", None, None),
        )
        .await;
    refreshed
}

/// A service: a confidential client of the client-credentials grant, for the admin API.
async fn service_client(server: &TestServer) -> TestClient {
    server
        .create_client_spec(ClientSpec {
            scope: ALL_ADMIN_SCOPES,
            grant_types: &["client_credentials"],
            ..ClientSpec::default()
        })
        .await
}

/// The client-credentials grant; returns the service's token. This grant has no
/// `invalid_grant`: its refusals of a client that did authenticate are `invalid_scope` and
/// `unauthorized_client`.
async fn client_credentials_grant(trail: &mut Trail<'_>, service: &TestClient) -> String {
    let server = trail.server;
    let client = Some(service.id.as_str());

    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "admin:users:read"),
    ];
    let tokens = assert_tokens_json(post_token(server, service, &form).await).await;
    trail
        .one(
            "a service token",
            success("token.client_credentials", None, client),
        )
        .await;
    let form = [("grant_type", "client_credentials"), ("scope", "openid")];
    assert_token_error(
        post_token(server, service, &form).await,
        400,
        "invalid_scope",
    )
    .await;
    trail
        .one(
            "a person's scope",
            failure("token.client_credentials", None, client),
        )
        .await;
    let impostor = TestClient {
        secret: Some("not the secret".into()),
        ..service.clone()
    };
    let form = [("grant_type", "client_credentials")];
    assert_token_error(
        post_token(server, &impostor, &form).await,
        401,
        "invalid_client",
    )
    .await;
    trail
        .one(
            "a wrong secret",
            failure("token.client_authentication", None, client),
        )
        .await;
    text(&tokens, "access_token").to_string()
}

/// Userinfo, introspection and revocation with the tokens of `tokens`.
async fn token_uses(trail: &mut Trail<'_>, web: &TestClient, bob: &str, tokens: &Value) {
    let server = trail.server;
    let client = Some(web.id.as_str());
    let access_token = text(tokens, "access_token");
    let impostor = TestClient {
        secret: Some("not the secret".into()),
        ..web.clone()
    };

    assert_eq!(userinfo(server, access_token).await.status(), 200);
    trail
        .one("userinfo", success("userinfo", Some(bob), client))
        .await;
    assert_eq!(userinfo(server, "not-a-token").await.status(), 401);
    trail
        .one("an invalid token", failure("userinfo", None, None))
        .await;
    let bare = http_client()
        .get(server.url("/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    let detail = trail.one("no token", failure("userinfo", None, None)).await;
    assert_eq!(detail["reason"], "no_token");

    let answer = server.introspect(web, access_token).await;
    assert_eq!(answer["active"], true);
    trail
        .one(
            "introspection",
            success("token.introspection", Some(bob), client),
        )
        .await;
    let refused = server
        .post_as(&impostor, "/introspect", &[("token", access_token)])
        .await;
    assert_token_error(refused, 401, "invalid_client").await;
    trail
        .one(
            "a wrong secret",
            failure("introspection.client_authentication", None, client),
        )
        .await;

    let refresh_token = text(tokens, "refresh_token");
    assert_eq!(server.revoke(web, refresh_token).await.status(), 200);
    trail
        .one(
            "a revocation",
            success("token.revocation", Some(bob), client),
        )
        .await;
    let refused = server.revoke(&impostor, refresh_token).await;
    assert_token_error(refused, 401, "invalid_client").await;
    trail
        .one(
            "a wrong secret",
            failure("revocation.client_authentication", None, client),
        )
        .await;
}

/// One admin call allowed, one refused for its scope, one without a token.
async fn admin_calls(trail: &mut Trail<'_>, service: &TestClient, token: &str) {
    let server = trail.server;
    let client = Some(service.id.as_str());

    let response = server.admin(Method::GET, Some(token), "/users", None).await;
    assert_eq!(response.status(), 200);
    trail
        .one("an allowed call", success("admin.user.list", None, client))
        .await;
    let response = server
        .admin(Method::GET, Some(token), "/clients", None)
        .await;
    assert_eq!(response.status(), 403);
    trail
        .one(
            "a scope not held",
            failure("admin.client.list", None, client),
        )
        .await;
    let response = server.admin(Method::GET, None, "/users", None).await;
    assert_eq!(response.status(), 401);
    trail
        .one("no token", failure("admin.refused", None, None))
        .await;
}

/// RP-initiated logout: a hint that Tessera did not sign is refused; bob's own ID token
/// ends his session.
async fn logout(
    trail: &mut Trail<'_>,
    browser: &Browser,
    web: &TestClient,
    bob: &str,
    tokens: &Value,
) {
    let server = trail.server;
    let mut url = url::Url::parse(&server.url("/logout")).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", "not.a.token");
    let response = browser.get(url.as_str()).await;
    assert_eq!(response.status(), 400);
    trail
        .one("a forged hint", failure("logout", None, None))
        .await;

    let mut url = url::Url::parse(&server.url("/logout")).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", text(tokens, "id_token"));
    let response = browser.get(url.as_str()).await;
    assert_eq!(response.status(), 200);
    trail
        .one(
            "a logout",
            success("logout", Some(bob), Some(web.id.as_str())),
        )
        .await;
}

/// Requests refused before their endpoint looked at them: a body that is no form, at every
/// endpoint that reads one; a query that does not parse; a forged CSRF token on each hosted
/// form; a sign-in attempt that has no interaction. Each is one failure of its endpoint's
/// type, with the reason written out.
async fn refused_before_the_endpoint(trail: &mut Trail<'_>, web: &TestClient) {
    let server = trail.server;
    let client = Some(web.id.as_str());
    let endpoints = [
        ("/token", "token.request"),
        ("/revoke", "token.revocation"),
        ("/introspect", "token.introspection"),
        ("/userinfo", "userinfo"),
        ("/login", "login.password"),
        ("/factor", "login.totp"),
        ("/consent", "consent"),
        ("/new-password", "login.password_change"),
        ("/account", "account.request"),
        ("/logout", "logout"),
        ("/passkey-login", "login.passwordless"),
        ("/passkey-factor", "login.webauthn"),
        ("/passkey-enrol", "login.webauthn"),
    ];
    for (path, event_type) in endpoints {
        let response = http_client()
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(r#"{"password":"hunter2"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let detail = trail.one(path, failure(event_type, None, None)).await;
        if event_type != "userinfo" {
            assert_eq!(detail, serde_json::json!({ "reason": "malformed_body" }));
        }
    }

    let response = http_client()
        .post(server.url("/account"))
        .form(&[("csrf", "x"), ("action", "fly")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let detail = trail
        .one("no action", failure("account.request", None, None))
        .await;
    assert_eq!(detail["reason"], "unknown_action");

    let response = Browser::new()
        .get(&server.url("/logout?state=a&state=b"))
        .await;
    assert_eq!(response.status(), 400);
    let detail = trail
        .one("a repeated parameter", failure("logout", None, None))
        .await;
    assert_eq!(detail["reason"], "malformed_query");

    // No interaction at all: the sign-in attempt expired, or never began.
    let stranger = Browser::new();
    let response = stranger.get(&server.url("/resume")).await;
    assert_eq!(response.status(), 400);
    let detail = trail
        .one("/resume", failure("authorization.request", None, None))
        .await;
    assert_eq!(detail["reason"], "interaction_gone");
    let forms = [
        ("/login", "login.password"),
        ("/factor", "login.totp"),
        ("/consent", "consent"),
        ("/new-password", "login.password_change"),
    ];
    for (path, event_type) in forms {
        let fields = [("csrf", "forged"), ("username", "bob"), ("password", "x")];
        let response = stranger.post_form(&server.url(path), &fields).await;
        assert_eq!(response.status(), 400, "{path}");
        let detail = trail.one(path, failure(event_type, None, None)).await;
        assert_eq!(detail["reason"], "interaction_gone", "{path}");
    }

    // A live interaction, but a token the page never showed.
    let browser = Browser::new();
    let response = browser.get(&server.authorize_url(web, &[])).await;
    assert_sent_to_login(server, &response);
    trail
        .one(
            "a valid request",
            success("authorization.request", None, client),
        )
        .await;
    let forged = [
        ("csrf", "forged"),
        ("username", "bob"),
        ("password", PASSWORD),
    ];
    let response = browser.post_form(&server.url("/login"), &forged).await;
    assert_eq!(response.status(), 400);
    let detail = trail
        .one("a forged login", failure("login.password", None, client))
        .await;
    assert_eq!(detail, serde_json::json!({ "reason": "csrf" }));
    for (path, event_type) in [("/factor", "login.totp"), ("/consent", "consent")] {
        let fields = [
            ("csrf", "forged"),
            ("code", "123456"),
            ("decision", "approve"),
        ];
        let response = browser.post_form(&server.url(path), &fields).await;
        assert_eq!(response.status(), 400, "{path}");
        let detail = trail.one(path, failure(event_type, None, None)).await;
        assert_eq!(detail["reason"], "csrf", "{path}");
    }
}

/// One consent form approved twice at once: one submission finishes the interaction and
/// issues the code; the other is still an attempt, and fails as one whose interaction is gone.
async fn consent_posted_twice(trail: &mut Trail<'_>, web: &TestClient, bob: &str) {
    let server = trail.server;
    let client = Some(web.id.as_str());
    let browser = Browser::new();
    let url = server.authorize_url(web, &[("prompt", "consent")]);
    let response = browser.get(&url).await;
    assert_sent_to_login(server, &response);
    trail
        .one("a request", success("authorization.request", None, client))
        .await;
    let login = form_of(browser.get(&server.url("/login")).await).await;
    let response = browser.submit_login(server, &login, "bob", PASSWORD).await;
    assert_eq!(location(&response), Some(server.url("/resume")));
    trail
        .one("a login", success("login.password", Some(bob), client))
        .await;
    let response = browser.get(&server.url("/resume")).await;
    assert_eq!(location(&response), Some(server.url("/consent")));
    let consent = form_of(browser.get(&server.url("/consent")).await).await;
    trail.none("the consent page").await;

    let (first, second) = tokio::join!(
        browser.approve(server, &consent),
        browser.approve(server, &consent)
    );
    let codes = [&first, &second]
        .iter()
        .filter(|r| location(r).and_then(|l| query_param(&l, "code")).is_some())
        .count();
    assert_eq!(codes, 1, "{first:?} {second:?}");
    let refused = [&first, &second]
        .iter()
        .filter(|r| r.status() == 400)
        .count();
    assert_eq!(refused, 1, "{first:?} {second:?}");

    let events = trail.exactly("one form approved twice at once", 2).await;
    let mut outcomes: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.outcome.as_str()))
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, [("consent", "failure"), ("consent", "success")]);
    let failed = events.iter().find(|e| e.outcome == "failure").unwrap();
    let detail: Value = serde_json::from_str(&failed.detail).unwrap();
    assert_eq!(detail["reason"], "interaction_gone");
}

#[tokio::test]
async fn every_access_attempt_is_exactly_one_event() {
    for engine in engines() {
        let server = start(engine).await;
        let bob = server.create_user("bob").await;
        let alice = server.create_user("alice").await;
        let carol = server.create_user("carol").await;
        let web = web_client(&server).await;
        let service = service_client(&server).await;
        let mfa = server.create_mfa_client().await;
        let mut trail = Trail::after_setup(&server).await;
        let (secret, recovery_codes) = enrol(&mut trail, &mfa, &alice).await;

        let (browser, code) = authorize_login_and_consent(&mut trail, &web, &bob).await;
        let other_code = signed_in_requests(&mut trail, &browser, &web, &bob).await;
        refused_authorization_requests(&mut trail, &web).await;
        throttled_login(&mut trail, &web, &carol).await;
        second_factors(&mut trail, &web, &alice, &secret, &recovery_codes[0]).await;
        let tokens = code_and_refresh_grants(&mut trail, &web, &bob, &code, &other_code).await;
        let service_token = client_credentials_grant(&mut trail, &service).await;
        token_uses(&mut trail, &web, &bob, &tokens).await;
        admin_calls(&mut trail, &service, &service_token).await;
        logout(&mut trail, &browser, &web, &bob, &tokens).await;
        refused_before_the_endpoint(&mut trail, &web).await;
        consent_posted_twice(&mut trail, &web, &bob).await;
        server.stop().await;
    }
}
