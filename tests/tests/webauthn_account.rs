//! Passkeys and security keys on the account page: the calls of `tessera_core::webauthn` it
//! makes (registration for a logged-in person, list, rename, remove), then the page itself
//! over real HTTP with the kit's software authenticator: the options request with the
//! session's CSRF token in its header, the forms, the fresh-authentication rules, the first
//! key's recovery codes, and passwordless sign-in with a key added here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tessera_core::accounts;
use tessera_core::webauthn::{KeyNameRefusal, KeyRefusal};
use tessera_core::{unix_now, RequestContext};
use tessera_e2e::account::{listed_codes, session_sid, sign_in_to_account, submit_action};
use tessera_e2e::expect::*;
use tessera_e2e::trail::{success, Trail};
use tessera_e2e::webauthn::{csrf_of, json, SoftKey};
use tessera_e2e::{engines, location, Browser, TestServer};
use tessera_store::testing::backdate_sessions;
use tessera_store::StoredAuditEvent;

/// Where the account page's script asks for a registration's options.
const OPTIONS: &str = "/passkey-account/options";
/// The one message on the login page after a failed passwordless attempt.
const PASSKEY_LOGIN_FAILED: &str =
    "That passkey was not accepted. Try again, or sign in with your password.";

/// Whether an audit event of `event_type` succeeded.
async fn succeeded(server: &TestServer, event_type: &str) -> bool {
    let all = server.provider.store().recent_audit_events(200).await;
    all.unwrap()
        .iter()
        .any(|e| e.event_type == event_type && e.outcome == "success")
}

/// The account page's calls: a registration for a logged-in person, kept under the caller's
/// key and answered once; the person's keys excluded from the next one; list, rename,
/// remove, only of their own keys; an administrator's reset removes them all.
#[tokio::test]
async fn the_account_api_registers_lists_renames_and_removes_keys() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let bob = server.create_user("bob").await;
        let provider = &server.provider;
        let ctx = RequestContext::default();
        let now = unix_now();

        let options = provider
            .start_key_registration(&alice, b"alice's session", now)
            .await
            .unwrap()
            .unwrap();
        let mut laptop = SoftKey::new(&server);
        let credential = laptop.register(&options);
        let elsewhere = provider
            .finish_key_registration(
                &alice,
                b"another session",
                &credential,
                "",
                b"kept",
                None,
                now,
                &ctx,
            )
            .await
            .unwrap();
        assert_eq!(elsewhere.err(), Some(KeyRefusal::NoCeremony));
        // The refusal above consumed nothing: the ceremony is keyed by its own session.
        let first = provider
            .finish_key_registration(
                &alice,
                b"alice's session",
                &credential,
                " Laptop ",
                b"kept",
                None,
                now,
                &ctx,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.key.name, "Laptop");
        assert_eq!(first.key.id, URL_SAFE_NO_PAD.encode(laptop.credential_id()));
        assert_eq!(first.recovery_codes.len(), 10, "the first factor");
        let again = provider
            .finish_key_registration(
                &alice,
                b"alice's session",
                &credential,
                "",
                b"kept",
                None,
                now,
                &ctx,
            )
            .await
            .unwrap();
        assert_eq!(again.err(), Some(KeyRefusal::NoCeremony), "answered once");

        // A minute later: keys are listed oldest first.
        let later = now + 60;
        let options = provider
            .start_key_registration(&alice, b"alice's session", later)
            .await
            .unwrap()
            .unwrap();
        let excluded = &json(&options)["publicKey"]["excludeCredentials"];
        assert_eq!(excluded[0]["id"], first.key.id);
        let mut phone = SoftKey::new(&server);
        let credential = phone.register(&options);
        let second = provider
            .finish_key_registration(
                &alice,
                b"alice's session",
                &credential,
                "",
                b"kept",
                None,
                later,
                &ctx,
            )
            .await
            .unwrap()
            .unwrap();
        assert!(second.recovery_codes.is_empty(), "not the first factor");

        let listed = provider.list_keys(&alice).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["Laptop", "Security key"]);

        let renamed = provider
            .rename_key(&alice, None, &second.key.id, "Phone", now, &ctx)
            .await
            .unwrap();
        assert_eq!(renamed, Ok(()));
        let refused = provider
            .rename_key(&alice, None, &second.key.id, "  ", now, &ctx)
            .await
            .unwrap();
        assert_eq!(refused, Err(KeyRefusal::Name(KeyNameRefusal::Empty)));
        let not_bobs = provider
            .rename_key(&bob, None, &second.key.id, "Mine", now, &ctx)
            .await
            .unwrap();
        assert_eq!(not_bobs, Err(KeyRefusal::NoSuchKey));
        let not_bobs = provider
            .remove_key(&bob, None, &first.key.id, now, &ctx)
            .await
            .unwrap();
        assert_eq!(not_bobs, Err(KeyRefusal::NoSuchKey));

        let removed = provider
            .remove_key(&alice, None, &first.key.id, now, &ctx)
            .await
            .unwrap();
        assert_eq!(removed, Ok(()));
        let listed = provider.list_keys(&alice).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["Phone"]);
        for event_type in [
            "factor.webauthn_register",
            "factor.webauthn_rename",
            "factor.webauthn_remove",
        ] {
            assert!(succeeded(&server, event_type).await, "{event_type}");
        }

        accounts::reset_factors(provider.store(), "alice", now)
            .await
            .unwrap();
        assert!(provider.list_keys(&alice).await.unwrap().is_empty());
        server.stop().await;
    }
}

/// The newest audit event of `event_type`.
async fn newest(server: &TestServer, event_type: &str) -> StoredAuditEvent {
    let all = server.provider.store().recent_audit_events(200).await;
    all.unwrap()
        .into_iter()
        .find(|e| e.event_type == event_type)
        .unwrap_or_else(|| panic!("no {event_type} event"))
}

fn reason(event: &StoredAuditEvent) -> String {
    json(&event.detail)["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Adds `key` from the account `page` open in `browser`, as the page's script does: the
/// options with the page's CSRF token in the header, then the credential in the form.
async fn add_key(
    server: &TestServer,
    browser: &Browser,
    page: &str,
    key: &mut SoftKey,
    name: &str,
) -> reqwest::Response {
    let options = browser
        .webauthn_options_json(server, OPTIONS, &csrf_of(page))
        .await;
    let credential = key.register(&options);
    let fields = [("credential", credential.as_str()), ("name", name)];
    submit_action(server, browser, page, "add_key", &fields).await
}

/// Signs in to the account page with `key` alone, in a new browser: the login page's
/// passwordless ceremony, then back to `/account`. The browser and the page.
async fn passwordless_to_account(server: &TestServer, key: &mut SoftKey) -> (Browser, String) {
    let browser = Browser::new();
    let login = page(browser.visit(server, &server.url("/account")).await);
    let csrf = csrf_of(&login);
    let options = browser
        .webauthn_options_json(server, "/passkey-login/options", &csrf)
        .await;
    let assertion = serde_json::to_string(&key.discover(&options)).unwrap();
    let response = browser
        .post_credential(server, "/passkey-login", &csrf, &assertion)
        .await;
    assert_eq!(location(&response), Some(server.url("/resume")));
    let account = page(browser.follow(&server.issuer, response).await);
    assert!(account.contains("Your account"), "{account}");
    (browser, account)
}

/// The page a done action's redirect leads to.
async fn after(server: &TestServer, browser: &Browser, response: reqwest::Response) -> String {
    assert_eq!(response.status(), 303);
    let to = location(&response).unwrap();
    assert!(to.starts_with(&server.url("/account?done=")), "{to}");
    page(browser.follow(&server.issuer, response).await)
}

/// Registers alice's first key from a new password-only session; the browser, the key and
/// the recovery codes shown.
async fn first_key(server: &TestServer) -> (Browser, SoftKey, Vec<String>) {
    let browser = Browser::new();
    let account = sign_in_to_account(server, &browser, "alice").await;
    let mut key = SoftKey::new(server);
    let response = add_key(server, &browser, &account, &mut key, "Laptop").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let shown = page_of(response).await;
    (browser, key, listed_codes(&shown))
}

/// The page lists no key at first and offers to add one through the script, which its CSP
/// then allows (own origin only); the first key from the page gets what an enrolment gets:
/// ten recovery codes shown once, and the person's other sessions end (they were opened
/// with the password alone), while this one stays.
#[tokio::test]
async fn the_first_key_from_the_page_gives_recovery_codes_and_ends_other_sessions() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let elsewhere = Browser::new();
        sign_in_to_account(&server, &elsewhere, "alice").await;

        let browser = Browser::new();
        let response = browser.get(&server.url("/account")).await;
        assert_sent_to_login(&server, &response);
        let account = sign_in_to_account(&server, &browser, "alice").await;
        assert!(account.contains("data-webauthn=\"account\""), "{account}");
        assert!(account.contains("data-options=\"passkey-account/options\""));
        assert!(account.contains("<script src=\"static/webauthn.js\" defer>"));
        assert!(account.contains("None yet."), "{account}");
        let response = browser.get(&server.url("/account")).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");

        let mut key = SoftKey::new(&server);
        let mut trail = Trail::after_setup(&server).await;
        let response = add_key(&server, &browser, &account, &mut key, "Laptop").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let shown = page_of(response).await;
        assert_eq!(listed_codes(&shown).len(), 10, "{shown}");
        // One request, one event: the registration's, counting the codes, in this session.
        let expected = success("factor.webauthn_register", Some(&alice), None);
        let registered = trail.event("the first key", expected).await;
        let credential_id = URL_SAFE_NO_PAD.encode(key.credential_id());
        assert_eq!(
            json(&registered.detail),
            serde_json::json!({
                "via": "account",
                "credential": credential_id,
                "recovery_codes": 10,
            })
        );
        assert_eq!(
            registered.session_id,
            Some(session_sid(&server, &browser).await)
        );
        let store = server.provider.store();
        assert_eq!(store.unused_recovery_codes(&alice).await.unwrap(), 10);

        let gone = elsewhere.get(&server.url("/account")).await;
        assert_sent_to_login(&server, &gone);
        let account = page_of(browser.get(&server.url("/account")).await).await;
        assert!(account.contains("<strong>Laptop</strong>"), "{account}");
        assert!(account.contains("bound to one device"), "{account}");
        assert!(account.contains("not used yet"), "{account}");
        assert!(account.contains("10 unused"), "{account}");
        server.stop().await;
    }
}

/// A key added on the page then signs in alone (passwordless); the session that opens is
/// multi-factor (the key and its user verification), fresh, and may add a second key,
/// which brings no new recovery codes.
#[tokio::test]
async fn a_key_added_on_the_page_signs_in_and_a_fresh_mfa_session_adds_another() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let (_, mut laptop, codes) = first_key(&server).await;
        assert_eq!(codes.len(), 10);

        let (browser, account) = passwordless_to_account(&server, &mut laptop).await;
        assert!(!account.contains("not used yet"), "{account}");
        assert!(account.contains("last used"), "{account}");
        let mut phone = SoftKey::new(&server);
        let mut trail = Trail::after_setup(&server).await;
        let response = add_key(&server, &browser, &account, &mut phone, "Phone").await;
        let expected = success("factor.webauthn_register", Some(&alice), None);
        let registered = trail.event("a second key", expected).await;
        let credential_id = URL_SAFE_NO_PAD.encode(phone.credential_id());
        assert_eq!(
            json(&registered.detail),
            serde_json::json!({ "via": "account", "credential": credential_id })
        );
        assert_eq!(
            registered.session_id,
            Some(session_sid(&server, &browser).await)
        );
        let done = after(&server, &browser, response).await;
        assert!(
            done.contains("The passkey or security key was added."),
            "{done}"
        );
        assert!(done.contains("<strong>Phone</strong>"), "{done}");
        assert!(done.contains("<strong>Laptop</strong>"), "{done}");
        let store = server.provider.store();
        assert_eq!(store.unused_recovery_codes(&alice).await.unwrap(), 10);
        assert_eq!(server.provider.list_keys(&alice).await.unwrap().len(), 2);

        passwordless_to_account(&server, &mut phone).await;
        server.stop().await;
    }
}

/// Rule 1 of a fresh authentication: a session whose sign-in is older than the window gets
/// no registration options (403, so the script posts the form) and the form sends it to
/// sign in again; both refusals are audited, and no key is added.
#[tokio::test]
async fn a_stale_session_gets_no_options_and_signs_in_again() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let browser = Browser::new();
        let account = sign_in_to_account(&server, &browser, "alice").await;
        let window = server.provider.settings().reauthentication_window;
        backdate_sessions(server.provider.store(), &alice, window + 1).await;

        let response = browser
            .webauthn_options(&server, OPTIONS, &csrf_of(&account))
            .await;
        assert_eq!(response.status(), 403);
        assert_eq!(
            json(&response.text().await.unwrap())["error"],
            "access_denied"
        );
        let refused = newest(&server, "factor.webauthn_register").await;
        assert_eq!(refused.outcome, "failure");
        assert_eq!(reason(&refused), "stale_authentication");

        let fields = [("credential", ""), ("name", "")];
        let response = submit_action(&server, &browser, &account, "add_key", &fields).await;
        assert_sent_to_login(&server, &response);
        let login = page(browser.follow(&server.issuer, response).await);
        assert!(login.contains("value=\"alice\""), "{login}");
        assert!(server.provider.list_keys(&alice).await.unwrap().is_empty());
        server.stop().await;
    }
}

/// Rule 2 of a fresh authentication: once alice has a key, the password-only session she
/// added it from no longer suffices; options, rename and remove all send her to sign in
/// with the key, and nothing changes.
#[tokio::test]
async fn a_password_only_session_of_a_person_with_a_key_changes_no_key() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let (browser, _, _) = first_key(&server).await;
        let account = page_of(browser.get(&server.url("/account")).await).await;
        let id = server.provider.list_keys(&alice).await.unwrap()[0]
            .id
            .clone();

        let response = browser
            .webauthn_options(&server, OPTIONS, &csrf_of(&account))
            .await;
        assert_eq!(response.status(), 403);
        let refused = newest(&server, "factor.webauthn_register").await;
        assert_eq!(reason(&refused), "single_factor_session");

        let fields = [("key", id.as_str()), ("name", "Stolen")];
        let response = submit_action(&server, &browser, &account, "rename_key", &fields).await;
        assert_sent_to_login(&server, &response);
        let refused = newest(&server, "factor.webauthn_rename").await;
        assert_eq!(reason(&refused), "single_factor_session");

        let fields = [("key", id.as_str())];
        let response = submit_action(&server, &browser, &account, "remove_key", &fields).await;
        assert_sent_to_login(&server, &response);
        let refused = newest(&server, "factor.webauthn_remove").await;
        assert_eq!(reason(&refused), "single_factor_session");

        let keys = server.provider.list_keys(&alice).await.unwrap();
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["Laptop"]);
        server.stop().await;
    }
}

/// The options request and the forms need this session's CSRF token: another token is
/// refused (400, an error in JSON or on a page) and audited, and changes nothing.
#[tokio::test]
async fn key_requests_without_this_sessions_csrf_token_are_refused() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let (_, mut laptop, _) = first_key(&server).await;
        let (browser, account) = passwordless_to_account(&server, &mut laptop).await;
        let (other, other_account) = passwordless_to_account(&server, &mut laptop).await;
        drop(other);
        let foreign = csrf_of(&other_account);
        let id = server.provider.list_keys(&alice).await.unwrap()[0]
            .id
            .clone();

        for token in ["", foreign.as_str()] {
            let response = browser.webauthn_options(&server, OPTIONS, token).await;
            assert_eq!(response.status(), 400);
            assert_eq!(
                json(&response.text().await.unwrap())["error"],
                "invalid_request"
            );
            let refused = newest(&server, "factor.webauthn_register").await;
            assert_eq!(reason(&refused), "csrf");
        }

        let form = [
            ("csrf", foreign.as_str()),
            ("action", "rename_key"),
            ("key", id.as_str()),
            ("name", "Forged"),
        ];
        let response = browser.post_form(&server.url("/account"), &form).await;
        assert_error_page(response, "invalid_request").await;
        assert_eq!(
            reason(&newest(&server, "factor.webauthn_rename").await),
            "csrf"
        );
        let form = [
            ("csrf", foreign.as_str()),
            ("action", "remove_key"),
            ("key", &id),
        ];
        let response = browser.post_form(&server.url("/account"), &form).await;
        assert_error_page(response, "invalid_request").await;
        assert_eq!(
            reason(&newest(&server, "factor.webauthn_remove").await),
            "csrf"
        );

        let keys = server.provider.list_keys(&alice).await.unwrap();
        assert_eq!(keys[0].name, "Laptop");
        assert!(account.contains("<strong>Laptop</strong>"));
        server.stop().await;
    }
}

/// Renaming takes a name of 1 to 64 characters for one of the person's own keys; anything
/// else is refused with a notice and audited.
#[tokio::test]
async fn a_key_is_renamed_from_a_fresh_session() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let (_, mut laptop, _) = first_key(&server).await;
        let (browser, account) = passwordless_to_account(&server, &mut laptop).await;
        let id = server.provider.list_keys(&alice).await.unwrap()[0]
            .id
            .clone();

        let fields = [("key", id.as_str()), ("name", "  Work laptop ")];
        let response = submit_action(&server, &browser, &account, "rename_key", &fields).await;
        let done = after(&server, &browser, response).await;
        assert!(done.contains("The key was renamed."), "{done}");
        assert!(done.contains("<strong>Work laptop</strong>"), "{done}");
        let renamed = newest(&server, "factor.webauthn_rename").await;
        assert_eq!(renamed.outcome, "success");
        assert_eq!(
            renamed.session_id,
            Some(session_sid(&server, &browser).await)
        );

        let too_long = "k".repeat(65);
        let fields = [("key", id.as_str()), ("name", too_long.as_str())];
        let response = submit_action(&server, &browser, &account, "rename_key", &fields).await;
        let refused = after(&server, &browser, response).await;
        assert!(refused.contains("1 to 64 characters"), "{refused}");
        assert_eq!(
            reason(&newest(&server, "factor.webauthn_rename").await),
            "bad_name"
        );

        let fields = [("key", "bm90LWEta2V5"), ("name", "Mine")];
        let response = submit_action(&server, &browser, &account, "rename_key", &fields).await;
        let refused = after(&server, &browser, response).await;
        assert!(
            refused.contains("That key is not on your account."),
            "{refused}"
        );

        let keys = server.provider.list_keys(&alice).await.unwrap();
        assert_eq!(keys[0].name, "Work laptop");
        server.stop().await;
    }
}

/// Removing a key: it is gone from the page and no longer signs in; as alice's last factor,
/// it takes her recovery codes with it.
#[tokio::test]
async fn a_removed_key_no_longer_signs_in() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let (_, mut laptop, _) = first_key(&server).await;
        let (browser, account) = passwordless_to_account(&server, &mut laptop).await;
        let id = server.provider.list_keys(&alice).await.unwrap()[0]
            .id
            .clone();

        let fields = [("key", id.as_str())];
        let response = submit_action(&server, &browser, &account, "remove_key", &fields).await;
        let done = after(&server, &browser, response).await;
        assert!(done.contains("The key was removed."), "{done}");
        assert!(done.contains("None yet."), "{done}");
        assert!(server.provider.list_keys(&alice).await.unwrap().is_empty());
        let store = server.provider.store();
        assert_eq!(store.unused_recovery_codes(&alice).await.unwrap(), 0);
        let removed = newest(&server, "factor.webauthn_remove").await;
        assert_eq!(removed.outcome, "success");
        assert_eq!(json(&removed.detail)["last_factor"], true);
        assert_eq!(
            removed.session_id,
            Some(session_sid(&server, &browser).await)
        );

        let again = Browser::new();
        let login = page(again.visit(&server, &server.url("/account")).await);
        let csrf = csrf_of(&login);
        let options = again
            .webauthn_options_json(&server, "/passkey-login/options", &csrf)
            .await;
        let assertion = serde_json::to_string(&laptop.discover(&options)).unwrap();
        let response = again
            .post_credential(&server, "/passkey-login", &csrf, &assertion)
            .await;
        assert_ne!(location(&response), Some(server.url("/resume")));
        let body = response.text().await.unwrap();
        assert!(body.contains(PASSKEY_LOGIN_FAILED), "{body}");
        assert_eq!(again.cookie(&server, "tessera-session"), None);
        server.stop().await;
    }
}

/// On an issuer whose host is an IP address no key can be added: the page offers none,
/// runs no script, and keeps the strict CSP.
#[tokio::test]
async fn without_webauthn_the_page_runs_no_script() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let browser = Browser::new();
        let account = sign_in_to_account(&server, &browser, "alice").await;
        assert!(!account.contains("data-webauthn"), "{account}");
        assert!(!account.contains("<script"), "{account}");
        let response = browser.get(&server.url("/account")).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(!csp.contains("script-src"), "{csp}");
        let response = browser
            .webauthn_options(&server, OPTIONS, &csrf_of(&account))
            .await;
        assert_eq!(response.status(), 400);
        server.stop().await;
    }
}

/// A key counts as the factor that recovery codes stand in for: removing the authenticator
/// app keeps them while a key is left, and new ones can be made with a key alone.
#[tokio::test]
async fn recovery_codes_stay_while_a_key_is_left() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let (_, mut laptop, first_codes) = first_key(&server).await;
        // An authenticator app beside the key; its secret is never read here.
        let store = server.provider.store();
        let now = unix_now();
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .begin_totp_enrolment(&alice, b"sealed", b"interaction", now)
            .await
            .unwrap());
        assert!(tx
            .confirm_totp_enrolment(&alice, b"interaction", 1, now)
            .await
            .unwrap());
        tx.commit().await.unwrap();

        let (browser, account) = passwordless_to_account(&server, &mut laptop).await;
        let response = submit_action(&server, &browser, &account, "remove_totp", &[]).await;
        let done = after(&server, &browser, response).await;
        assert!(
            done.contains("The authenticator app was removed."),
            "{done}"
        );
        assert!(store.totp_factor(&alice).await.unwrap().is_none());
        assert_eq!(store.unused_recovery_codes(&alice).await.unwrap(), 10);
        assert!(done.contains("10 unused"), "{done}");

        let response =
            submit_action(&server, &browser, &done, "regenerate_recovery_codes", &[]).await;
        let shown = page_of(response).await;
        let codes = listed_codes(&shown);
        assert_eq!(codes.len(), 10, "{shown}");
        assert!(codes.iter().all(|c| !first_codes.contains(c)));
        server.stop().await;
    }
}
