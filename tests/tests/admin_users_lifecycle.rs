//! `/admin/v1/users/{id}`: disabling, enabling, deleting people and setting their passwords
//! (issue 5, "Users"), each with its refusals and audit event, on both engines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{json, Value};
use tessera_e2e::admin::{problem, ALL_ADMIN_SCOPES};
use tessera_e2e::admin_users::{json_and_etag, USERS_RW};
use tessera_e2e::expect::userinfo;
use tessera_e2e::lifecycle::text;
use tessera_e2e::{engines, TestServer, PASSWORD};

const NOBODY: &str = "/users/00000000-0000-4000-8000-000000000000";

/// 401 without a token, 403 with a read-only one, 428 without If-Match, 412 with a stale
/// one, 404 for nobody: what every versioned change of a person answers.
async fn refusals(
    server: &TestServer,
    method: Method,
    id: &str,
    suffix: &str,
    body: Option<&Value>,
) {
    let path = &format!("/users/{id}{suffix}");
    let (status, _) = problem(server.admin(method.clone(), None, path, body).await).await;
    assert_eq!(status, 401, "{path}");

    let (_, reader) = server.service_token("admin:users:read").await;
    let response = server
        .admin_with(
            method.clone(),
            Some(&reader),
            path,
            body,
            &[("if-match", "*")],
        )
        .await;
    let (status, _) = problem(response).await;
    assert_eq!(status, 403, "{path}");

    let (_, token) = server.service_token(USERS_RW).await;
    let (status, _) = problem(server.admin(method.clone(), Some(&token), path, body).await).await;
    assert_eq!(status, 428, "{path}");
    for stale in ["\"999\"", "W/\"1\""] {
        let response = server
            .admin_with(
                method.clone(),
                Some(&token),
                path,
                body,
                &[("if-match", stale)],
            )
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 412, "{path}");
        assert_eq!(body["type"], "urn:tessera:problem:precondition-failed");
    }

    let missing = format!("{NOBODY}{suffix}");
    let response = server
        .admin_with(method, Some(&token), &missing, body, &[("if-match", "*")])
        .await;
    let (status, _) = problem(response).await;
    assert_eq!(status, 404, "{missing}");
}

/// Alice's id and an app access token of hers.
async fn alice_with_token(server: &TestServer) -> (String, String) {
    let id = server.create_user("alice").await;
    let app = server.create_client(false, true).await;
    let tokens = server.tokens_for(&app, "alice", "openid").await;
    (id, text(&tokens, "access_token").to_string())
}

/// Disabling revokes the person's tokens at once and is recorded with what it ended;
/// enabling brings none back; each bumps the version.
#[tokio::test]
async fn an_admin_disables_and_enables_a_person() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (id, access) = alice_with_token(&server).await;
        assert_eq!(userinfo(&server, &access).await.status(), 200);
        let (client, token) = server.service_token(USERS_RW).await;
        let (_, etag) = server.admin_user(&token, &id).await;

        let path = format!("/users/{id}/disable");
        let response = server
            .admin_with(
                Method::POST,
                Some(&token),
                &path,
                None,
                &[("if-match", &etag)],
            )
            .await;
        assert_eq!(response.status(), 200);
        let (user, disabled_etag) = json_and_etag(response).await;
        assert_eq!(user["status"], "disabled");
        assert_ne!(disabled_etag, etag);
        assert_eq!(userinfo(&server, &access).await.status(), 401);
        let (outcome, detail) = server.last_outcome("admin.user.disable").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["admin"], format!("client:{}", client.id));
        assert_eq!(detail["target"], json!({ "user": id }));
        assert_eq!(detail["revoked_access_tokens"], 1);
        assert_eq!(detail["ended_sessions"], 1);

        let path = format!("/users/{id}/enable");
        let response = server
            .admin_with(
                Method::POST,
                Some(&token),
                &path,
                None,
                &[("if-match", &disabled_etag)],
            )
            .await;
        assert_eq!(response.status(), 200);
        let (user, _) = json_and_etag(response).await;
        assert_eq!(user["status"], "active");
        assert_eq!(userinfo(&server, &access).await.status(), 401);
        let (outcome, _) = server.last_outcome("admin.user.enable").await;
        assert_eq!(outcome, "success");

        refusals(&server, Method::POST, &id, "/disable", None).await;
        refusals(&server, Method::POST, &id, "/enable", None).await;
        server.stop().await;
    }
}

/// Deleting leaves a tombstone: GET answers 404, the person is not listed, their tokens
/// are dead, their username is free for someone new who gets another `sub`.
#[tokio::test]
async fn an_admin_deletes_a_person_for_good() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (id, access) = alice_with_token(&server).await;
        let (_, token) = server.service_token(USERS_RW).await;
        let (_, etag) = server.admin_user(&token, &id).await;
        refusals(&server, Method::DELETE, &id, "", None).await;

        let path = format!("/users/{id}");
        let response = server
            .admin_with(
                Method::DELETE,
                Some(&token),
                &path,
                None,
                &[("if-match", &etag)],
            )
            .await;
        assert_eq!(response.status(), 204);
        let (outcome, detail) = server.last_outcome("admin.user.delete").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["target"], json!({ "user": id }));

        let (status, _) = problem(server.admin(Method::GET, Some(&token), &path, None).await).await;
        assert_eq!(status, 404);
        let list: Value = server
            .admin(Method::GET, Some(&token), "/users", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"], json!([]));
        assert_eq!(userinfo(&server, &access).await.status(), 401);
        let response = server
            .admin_with(
                Method::DELETE,
                Some(&token),
                &path,
                None,
                &[("if-match", "*")],
            )
            .await;
        assert_eq!(problem(response).await.0, 404);

        // The row stays, emptied: the `sub` is never reused (OIDC Core §2).
        let stored = server
            .provider
            .store()
            .user_by_id(&id)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.disabled);
        assert_eq!(stored.email, None);
        assert_eq!(stored.password_hash, None);
        let (again, _) = server
            .admin_create_user(&token, &json!({"username": "alice"}))
            .await;
        assert_ne!(again["id"], id.as_str());
        server.stop().await;
    }
}

/// A password the admin gives replaces the old one, ends the person's access, and is
/// recorded without the password.
#[tokio::test]
async fn an_admin_sets_a_password() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (id, access) = alice_with_token(&server).await;
        let (_, token) = server.service_token(USERS_RW).await;
        let (_, etag) = server.admin_user(&token, &id).await;
        let path = format!("/users/{id}/password");
        let new = "a whole new passphrase";
        let body = json!({ "password": new, "must_change_password": false });
        let response = server
            .admin_with(
                Method::PUT,
                Some(&token),
                &path,
                Some(&body),
                &[("if-match", &etag)],
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let (result, _) = json_and_etag(response).await;
        assert_eq!(result.get("generated_password"), None);
        assert_eq!(result["user"]["must_change_password"], false);
        assert_eq!(userinfo(&server, &access).await.status(), 401);
        let (outcome, detail) = server.last_outcome("admin.user.password").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["generated"], false);
        assert!(!detail.to_string().contains(new));

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
                .verify(new.to_string().into(), stored.password_hash.clone())
                .await
        );
        assert!(
            !hasher
                .verify(PASSWORD.to_string().into(), stored.password_hash)
                .await
        );
        server.stop().await;
    }
}

/// A generated password is shown once in the answer and works.
#[tokio::test]
async fn an_admin_has_a_password_generated() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(USERS_RW).await;
        let (user, etag) = server
            .admin_create_user(&token, &json!({"username": "bob"}))
            .await;
        assert_eq!(user["factors"]["password"], false);
        let path = format!("/users/{}/password", text(&user, "id"));
        let body = json!({ "generate": true, "must_change_password": false });
        let response = server
            .admin_with(
                Method::PUT,
                Some(&token),
                &path,
                Some(&body),
                &[("if-match", &etag)],
            )
            .await;
        assert_eq!(response.status(), 200);
        let (result, _) = json_and_etag(response).await;
        let generated = text(&result, "generated_password").to_string();
        assert!(generated.chars().count() >= 40, "{generated}");
        assert_eq!(result["user"]["factors"]["password"], true);
        let (_, detail) = server.last_outcome("admin.user.password").await;
        assert_eq!(detail["generated"], true);
        assert!(!detail.to_string().contains(&generated));

        let stored = server
            .provider
            .store()
            .user_by_id(text(&user, "id"))
            .await
            .unwrap()
            .unwrap();
        let hasher = tessera_core::password::PasswordHasher::new(1).unwrap();
        assert!(hasher.verify(generated.into(), stored.password_hash).await);
        server.stop().await;
    }
}

/// 400 for a password the policy refuses, for both or neither of password and generate,
/// and for a missing `must_change_password`; plus the shared refusals.
#[tokio::test]
async fn a_password_is_refused_when_it_must_be() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let id = server.create_user("alice").await;
        let (_, token) = server.service_token(USERS_RW).await;
        let path = format!("/users/{id}/password");
        let cases = [
            (
                json!({"password": "short", "must_change_password": false}),
                vec!["/password"],
            ),
            (
                json!({"password": "password1234", "must_change_password": false}),
                vec!["/password"],
            ),
            (
                json!({"password": "long enough phrase", "generate": true,
                       "must_change_password": false}),
                vec!["/password", "/generate"],
            ),
            (json!({"must_change_password": true}), vec!["/password"]),
            (json!({"generate": true}), vec![""]),
        ];
        for (body, fields) in cases {
            let response = server
                .admin_with(
                    Method::PUT,
                    Some(&token),
                    &path,
                    Some(&body),
                    &[("if-match", "*")],
                )
                .await;
            let (status, problem_body) = problem(response).await;
            assert_eq!(status, 400, "{body}");
            let named: Vec<&str> = problem_body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert_eq!(named, fields, "{body}");
        }
        let body = json!({"generate": true, "must_change_password": false});
        refusals(&server, Method::PUT, &id, "/password", Some(&body)).await;
        server.stop().await;
    }
}

/// A user administrator cannot set the password of someone holding rights they lack: that
/// would let them log in with those rights (403 Escalation). An admin holding every right
/// can.
#[tokio::test]
async fn a_password_cannot_hand_over_rights_the_caller_lacks() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let id = server.create_user("root").await;
        server.grant_roles("root", &["admin"]).await;
        let path = format!("/users/{id}/password");
        let body = json!({"generate": true, "must_change_password": true});

        let (_, token) = server.service_token(USERS_RW).await;
        let response = server
            .admin_with(
                Method::PUT,
                Some(&token),
                &path,
                Some(&body),
                &[("if-match", "*")],
            )
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(problem_body["type"], "urn:tessera:problem:escalation");
        assert!(problem_body["detail"]
            .as_str()
            .unwrap()
            .contains("admin:roles:write"));
        let (outcome, _) = server.last_outcome("admin.user.password").await;
        assert_eq!(outcome, "failure");

        let (_, all) = server.service_token(ALL_ADMIN_SCOPES).await;
        let response = server
            .admin_with(
                Method::PUT,
                Some(&all),
                &path,
                Some(&body),
                &[("if-match", "*")],
            )
            .await;
        assert_eq!(response.status(), 200);
        server.stop().await;
    }
}

/// A user administrator cannot weaken, lock out or undo someone holding rights they lack:
/// renaming, ending a session of, removing a factor of, disabling, enabling or deleting a full
/// admin is 403 Escalation, audited, and changes nothing; the same calls by an admin holding
/// every right succeed.
#[tokio::test]
async fn a_lesser_admin_cannot_disable_delete_or_strip_a_greater_one() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let scope = format!("openid {ALL_ADMIN_SCOPES}");
        let root = server.admin_person("root", &["admin"], &scope).await;
        let id = root.user_id.clone();
        let (_, lesser) = server.service_token(USERS_RW).await;
        let if_match = [("if-match", "*")];

        let (_, all) = server.service_token(ALL_ADMIN_SCOPES).await;
        let sessions = server
            .admin(
                Method::GET,
                Some(&all),
                &format!("/users/{id}/sessions"),
                None,
            )
            .await;
        let sessions: Value = sessions.json().await.unwrap();
        let sid = sessions["items"][0]["sid"].as_str().unwrap().to_string();
        let rename = json!({"display_name": "Not Root"});

        let attempts = [
            (
                Method::PATCH,
                format!("/users/{id}"),
                Some(&rename),
                "admin.user.update",
            ),
            (
                Method::POST,
                format!("/users/{id}/enable"),
                None,
                "admin.user.enable",
            ),
            (
                Method::DELETE,
                format!("/users/{id}/sessions/{sid}"),
                None,
                "admin.user.session.delete",
            ),
            (
                Method::DELETE,
                format!("/users/{id}/factors/totp"),
                None,
                "admin.user.factor.delete",
            ),
            (
                Method::POST,
                format!("/users/{id}/disable"),
                None,
                "admin.user.disable",
            ),
            (
                Method::DELETE,
                format!("/users/{id}"),
                None,
                "admin.user.delete",
            ),
        ];
        for (method, path, body, action) in &attempts {
            let response = server
                .admin_with(method.clone(), Some(&lesser), path, *body, &if_match)
                .await;
            let (status, body) = problem(response).await;
            assert_eq!(status, 403, "{path}");
            assert_eq!(body["type"], "urn:tessera:problem:escalation", "{path}");
            let (outcome, _) = server.last_outcome(action).await;
            assert_eq!(outcome, "failure", "{action}");
        }

        // Nothing changed: root's token still works, their authenticator is still there.
        let me = server
            .admin(Method::GET, Some(&root.token), "/me", None)
            .await;
        assert_eq!(me.status(), 200);
        let factors = server
            .admin(
                Method::GET,
                Some(&all),
                &format!("/users/{id}/factors"),
                None,
            )
            .await;
        let factors: Value = factors.json().await.unwrap();
        assert!(factors.to_string().contains("totp"), "{factors}");

        for (method, path, body, _) in &attempts {
            let response = server
                .admin_with(method.clone(), Some(&all), path, *body, &if_match)
                .await;
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
        }
        server.stop().await;
    }
}
