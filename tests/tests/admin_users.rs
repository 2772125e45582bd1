//! `/admin/v1/users`, creating, reading, listing and changing people (issue 5, "Users"):
//! each endpoint's success, validation failure naming every field, 401, 403, 404, and its
//! conflict and precondition answers, with the audit event of the call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{json, Value};
use tessera_e2e::admin::problem;
use tessera_e2e::admin_users::{json_and_etag, USERS_RW};
use tessera_e2e::lifecycle::text;
use tessera_e2e::{engines, TestServer, PASSWORD};

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

/// 201 with `Location` and `ETag`, the view of the person, and the `admin.user.create`
/// event naming the caller and the new id. The person can log in with the password.
#[tokio::test]
async fn an_admin_creates_a_person() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (client, token) = server.service_token(USERS_RW).await;
        let body = json!({
            "username": "bob",
            "email": "bob@example.com",
            "email_verified": true,
            "display_name": "Bob Builder",
            "password": PASSWORD,
        });
        let response = server
            .admin(Method::POST, Some(&token), "/users", Some(&body))
            .await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let (user, etag) = json_and_etag(response).await;
        let id = text(&user, "id");
        assert_eq!(location, server.url(&format!("/admin/v1/users/{id}")));
        assert_eq!(etag, "\"1\"");
        assert_eq!(user["username"], "bob");
        assert_eq!(user["email"], "bob@example.com");
        assert_eq!(user["email_verified"], true);
        assert_eq!(user["status"], "active");
        assert_eq!(user["must_change_password"], false);
        assert_eq!(user["last_login_at"], Value::Null);
        assert_eq!(
            user["factors"],
            json!({"password": true, "totp": false, "webauthn_keys": 0, "recovery_codes": 0})
        );

        let (outcome, detail) = server.last_outcome("admin.user.create").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["admin"], format!("client:{}", client.id));
        assert_eq!(detail["target"], json!({ "user": id }));

        // The password works, and the login is the person's last.
        let app = server.create_client(false, true).await;
        server.tokens_for(&app, "bob", "openid").await;
        let (user, _) = server.admin_user(&token, id).await;
        assert!(user["last_login_at"].as_i64().unwrap() > 0);
        server.stop().await;
    }
}

/// Every invalid field is named at once; unknown fields (one the server owns) are refused.
#[tokio::test]
async fn a_creation_with_invalid_fields_names_them_all() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(USERS_RW).await;
        let body = json!({
            "username": "",
            "email": "not an address",
            "display_name": "",
            "password": "short",
        });
        let response = server
            .admin(Method::POST, Some(&token), "/users", Some(&body))
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(
            fields(&problem_body),
            ["/username", "/email", "/display_name", "/password"]
        );

        let body = json!({ "username": "carol", "id": "chosen-sub" });
        let response = server
            .admin(Method::POST, Some(&token), "/users", Some(&body))
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(fields(&problem_body), ["/id"]);

        let (outcome, detail) = server.last_outcome("admin.user.create").await;
        assert_eq!(outcome, "failure");
        assert_eq!(detail["status"], 400);
        server.stop().await;
    }
}

/// 401 without a token, 403 with a token that lacks `admin:users:write`, 409 for a taken
/// username, compared as RFC 8265 does (case-insensitively).
#[tokio::test]
async fn a_creation_is_refused_without_rights_or_with_a_taken_name() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let body = json!({ "username": "bob" });
        let (status, _) = problem(
            server
                .admin(Method::POST, None, "/users", Some(&body))
                .await,
        )
        .await;
        assert_eq!(status, 401);

        let (_, reader) = server.service_token("admin:users:read").await;
        let response = server
            .admin(Method::POST, Some(&reader), "/users", Some(&body))
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:insufficient-scope"
        );
        let (outcome, detail) = server.last_outcome("admin.user.create").await;
        assert_eq!(outcome, "failure");
        assert_eq!(detail["reason"], "insufficient_scope");

        let (_, token) = server.service_token(USERS_RW).await;
        server.admin_create_user(&token, &body).await;
        let response = server
            .admin(
                Method::POST,
                Some(&token),
                "/users",
                Some(&json!({"username": "BOB"})),
            )
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 409);
        assert_eq!(problem_body["type"], "urn:tessera:problem:conflict");
        server.stop().await;
    }
}

/// A retry with the same `Idempotency-Key` and body gets the first answer and creates no
/// one; the key with another body is a 422.
#[tokio::test]
async fn a_retried_creation_is_answered_once() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(USERS_RW).await;
        let body = json!({ "username": "bob" });
        let key = [("idempotency-key", "create-bob-1")];
        let first = server
            .admin_with(Method::POST, Some(&token), "/users", Some(&body), &key)
            .await;
        assert_eq!(first.status(), 201);
        let (first, _) = json_and_etag(first).await;
        let again = server
            .admin_with(Method::POST, Some(&token), "/users", Some(&body), &key)
            .await;
        assert_eq!(again.status(), 201);
        assert!(again.headers().contains_key("location"));
        let (again, etag) = json_and_etag(again).await;
        assert_eq!(again["id"], first["id"]);
        assert_eq!(etag, "\"1\"");

        let other = json!({ "username": "carol" });
        let response = server
            .admin_with(Method::POST, Some(&token), "/users", Some(&other), &key)
            .await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 422);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:idempotency-key-reused"
        );
        let list = server
            .admin(Method::GET, Some(&token), "/users", None)
            .await;
        let list: Value = list.json().await.unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        server.stop().await;
    }
}

/// GET: 200 with the ETag, 404 for an unknown id, 401, 403 without `admin:users:read`;
/// the read is recorded.
#[tokio::test]
async fn an_admin_reads_a_person() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let id = server.create_user("alice").await;
        let (client, token) = server.service_token("admin:users:read").await;
        let (user, etag) = server.admin_user(&token, &id).await;
        assert_eq!(user["id"], id.as_str());
        assert_eq!(user["username"], "alice");
        assert_eq!(user["display_name"], "Alice Liddell");
        assert_eq!(etag, format!("\"{}\"", user["version"]));
        let (outcome, detail) = server.last_outcome("admin.user.read").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["admin"], format!("client:{}", client.id));
        assert_eq!(detail["target"], json!({ "user": id }));

        for path in [
            "/users/00000000-0000-4000-8000-000000000000",
            "/users/a%00b",
        ] {
            let response = server.admin(Method::GET, Some(&token), path, None).await;
            assert_eq!(problem(response).await.0, 404, "{path}");
        }
        let (outcome, _) = server.last_outcome("admin.user.read").await;
        assert_eq!(outcome, "failure");

        let user_path = format!("/users/{id}");
        let (status, _) = problem(server.admin(Method::GET, None, &user_path, None).await).await;
        assert_eq!(status, 401);
        let (_, other) = server.service_token("admin:clients:read").await;
        let response = server
            .admin(Method::GET, Some(&other), &user_path, None)
            .await;
        let (status, _) = problem(response).await;
        assert_eq!(status, 403);
        server.stop().await;
    }
}

async fn list(server: &TestServer, token: &str, query: &str) -> Value {
    let response = server
        .admin(Method::GET, Some(token), &format!("/users{query}"), None)
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn usernames(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect()
}

/// Pages follow one another by cursor; `q`, `status`, `factor` and the last-login bounds
/// narrow the list; bad parameters are all named; 401 and 403.
#[tokio::test]
async fn an_admin_lists_people_by_page_and_filter() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(USERS_RW).await;
        for (name, email) in [
            ("ann", "ann@example.com"),
            ("ben", "ben@corp.example"),
            ("cat", "cat@example.com"),
        ] {
            let body = json!({"username": name, "email": email, "password": PASSWORD});
            server.admin_create_user(&token, &body).await;
        }

        let first = list(&server, &token, "?limit=2").await;
        assert_eq!(usernames(&first).len(), 2);
        let cursor = first["next_cursor"].as_str().unwrap().to_string();
        let second = list(&server, &token, &format!("?limit=2&cursor={cursor}")).await;
        assert_eq!(usernames(&second).len(), 1);
        assert_eq!(second["next_cursor"], Value::Null);
        let mut all = [usernames(&first), usernames(&second)].concat();
        all.sort();
        assert_eq!(all, ["ann", "ben", "cat"]);

        assert_eq!(usernames(&list(&server, &token, "?q=CORP").await), ["ben"]);
        assert_eq!(usernames(&list(&server, &token, "?q=%25").await).len(), 0);

        let app = server.create_client(false, true).await;
        server.tokens_for(&app, "cat", "openid").await;
        let recent = list(&server, &token, "?last_login_after=1").await;
        assert_eq!(usernames(&recent), ["cat"]);
        let before = list(&server, &token, "?last_login_before=1").await;
        assert_eq!(usernames(&before).len(), 0);

        let ann = list(&server, &token, "?q=ann").await["items"][0].clone();
        let path = format!("/users/{}/disable", text(&ann, "id"));
        let response = server
            .admin_with(
                Method::POST,
                Some(&token),
                &path,
                None,
                &[("if-match", "*")],
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            usernames(&list(&server, &token, "?status=disabled").await),
            ["ann"]
        );
        assert_eq!(
            usernames(&list(&server, &token, "?status=active&factor=none").await).len(),
            2
        );
        assert_eq!(
            usernames(&list(&server, &token, "?factor=totp").await).len(),
            0
        );

        let bad = "?limit=500&status=gone&factor=sms&last_login_after=soon&cursor=%21";
        let response = server
            .admin(Method::GET, Some(&token), &format!("/users{bad}"), None)
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(
            fields(&body),
            ["limit", "cursor", "status", "factor", "last_login_after"]
        );

        // A misspelt filter would list everyone: every unknown name is refused, once.
        let response = server
            .admin(
                Method::GET,
                Some(&token),
                "/users?stauts=disabled&q=a&sort=name&stauts=x",
                None,
            )
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(
            (status, fields(&body)),
            (400, vec!["stauts".to_string(), "sort".to_string()])
        );

        // A NUL fits no name, and PostgreSQL's text holds none: a 400, not a fault.
        let response = server
            .admin(Method::GET, Some(&token), "/users?q=a%00b", None)
            .await;
        let (status, body) = problem(response).await;
        assert_eq!((status, fields(&body)), (400, vec!["q".to_string()]));

        let (status, _) = problem(server.admin(Method::GET, None, "/users", None).await).await;
        assert_eq!(status, 401);
        let (_, other) = server.service_token("admin:keys:read").await;
        let (status, _) = problem(
            server
                .admin(Method::GET, Some(&other), "/users", None)
                .await,
        )
        .await;
        assert_eq!(status, 403);
        let (outcome, _) = server.last_outcome("admin.user.list").await;
        assert_eq!(outcome, "failure");
        server.stop().await;
    }
}

/// PATCH is a JSON merge patch: `null` clears an optional field, a new email is unverified,
/// the version moves on; the change is recorded with the names of the fields it touched.
#[tokio::test]
async fn an_admin_patches_a_profile() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(USERS_RW).await;
        let body = json!({"username": "bob", "email": "bob@example.com", "email_verified": true,
                          "display_name": "Bob"});
        let (user, etag) = server.admin_create_user(&token, &body).await;
        let path = format!("/users/{}", text(&user, "id"));

        let patch = json!({ "display_name": null, "email": "robert@example.com" });
        let response = server
            .admin_with(
                Method::PATCH,
                Some(&token),
                &path,
                Some(&patch),
                &[("if-match", &etag)],
            )
            .await;
        assert_eq!(response.status(), 200);
        let (user, new_etag) = json_and_etag(response).await;
        assert_eq!(new_etag, "\"2\"");
        assert_eq!(user["display_name"], Value::Null);
        assert_eq!(user["email"], "robert@example.com");
        assert_eq!(user["email_verified"], false);
        assert_eq!(user["username"], "bob");
        let (outcome, detail) = server.last_outcome("admin.user.update").await;
        assert_eq!(outcome, "success");
        assert_eq!(detail["changed"], json!(["email", "display_name"]));

        // The first ETag is stale now (RFC 9110 §13.1.1): 412, and nothing changes.
        let patch = json!({ "username": "robert" });
        let response = server
            .admin_with(
                Method::PATCH,
                Some(&token),
                &path,
                Some(&patch),
                &[("if-match", &etag)],
            )
            .await;
        let (status, _) = problem(response).await;
        assert_eq!(status, 412);
        assert_eq!(
            server.admin_user(&token, text(&user, "id")).await.0["username"],
            "bob"
        );
        server.stop().await;
    }
}

/// PATCH refusals: 428 without If-Match, 400 naming every bad field, 409 for a taken name,
/// 404, 401, 403.
#[tokio::test]
async fn a_patch_is_refused_when_it_must_be() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let (_, token) = server.service_token(USERS_RW).await;
        let (bob, etag) = server
            .admin_create_user(&token, &json!({"username": "bob"}))
            .await;
        let path = format!("/users/{}", text(&bob, "id"));
        let if_match = [("if-match", etag.as_str())];

        let patch = json!({ "display_name": "Bobby" });
        let response = server
            .admin(Method::PATCH, Some(&token), &path, Some(&patch))
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 428);
        assert_eq!(body["type"], "urn:tessera:problem:precondition-required");

        let patch = json!({ "username": null, "email": "x", "email_verified": true,
                            "display_name": "" });
        let response = server
            .admin_with(Method::PATCH, Some(&token), &path, Some(&patch), &if_match)
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(fields(&body), ["/username", "/email", "/display_name"]);

        let patch = json!({ "username": "Alice" });
        let response = server
            .admin_with(Method::PATCH, Some(&token), &path, Some(&patch), &if_match)
            .await;
        let (status, _) = problem(response).await;
        assert_eq!(status, 409);
        assert_ne!(alice, text(&bob, "id"));

        let missing = "/users/00000000-0000-4000-8000-000000000000";
        let response = server
            .admin_with(
                Method::PATCH,
                Some(&token),
                missing,
                Some(&json!({})),
                &[("if-match", "*")],
            )
            .await;
        let (status, _) = problem(response).await;
        assert_eq!(status, 404);

        let (status, _) = problem(
            server
                .admin(Method::PATCH, None, &path, Some(&json!({})))
                .await,
        )
        .await;
        assert_eq!(status, 401);
        let (_, reader) = server.service_token("admin:users:read").await;
        let response = server
            .admin_with(
                Method::PATCH,
                Some(&reader),
                &path,
                Some(&json!({})),
                &if_match,
            )
            .await;
        let (status, _) = problem(response).await;
        assert_eq!(status, 403);
        server.stop().await;
    }
}

/// Retries sent in parallel with one `Idempotency-Key` create one person, and every one of
/// them gets that creation's answer: none sees "username taken" for its own creation.
#[tokio::test]
async fn parallel_retries_with_one_idempotency_key_create_one_person() {
    for engine in engines() {
        let server = std::sync::Arc::new(TestServer::start(engine).await);
        let (_, token) = server.service_token(USERS_RW).await;
        let body = json!({"username": "dinah", "password": PASSWORD});
        let mut retries = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (server, token, body) = (server.clone(), token.clone(), body.clone());
            retries.spawn(async move {
                let response = server
                    .admin_with(
                        Method::POST,
                        Some(&token),
                        "/users",
                        Some(&body),
                        &[("idempotency-key", "create-dinah-1")],
                    )
                    .await;
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                (status, body["id"].as_str().map(str::to_string))
            });
        }
        let answers: Vec<(u16, Option<String>)> = retries.join_all().await;
        let first = answers[0].1.clone();
        assert!(first.is_some(), "{answers:?}");
        assert!(
            answers
                .iter()
                .all(|(status, id)| *status == 201 && *id == first),
            "{answers:?}"
        );
        std::sync::Arc::into_inner(server).unwrap().stop().await;
    }
}
