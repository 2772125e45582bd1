//! An admin reads and sets the roles a person holds (`/admin/v1/users/{id}/roles`): with
//! `If-Match`, so two admins cannot overwrite each other, and never handing out or taking
//! away a scope the caller does not hold itself (issue 5, "Who may call it").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::{Method, Response};
use serde_json::{json, Value};
use tessera_e2e::admin::{problem, ALL_ADMIN_SCOPES};
use tessera_e2e::{engines, http_client, TestServer};

const USER_ADMIN: &str = "admin:roles:write admin:users:read admin:users:write";

/// `PUT /users/{id}/roles` with `If-Match` when given.
async fn put_roles(
    server: &TestServer,
    token: &str,
    user_id: &str,
    if_match: Option<&str>,
    body: &Value,
) -> Response {
    let url = server.url(&format!("/admin/v1/users/{user_id}/roles"));
    let mut request = http_client().put(url).bearer_auth(token).json(body);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    request.send().await.unwrap()
}

async fn get_roles(server: &TestServer, token: &str, user_id: &str) -> Response {
    let path = format!("/users/{user_id}/roles");
    server.admin(Method::GET, Some(token), &path, None).await
}

/// The body and `ETag` of a 200.
async fn roles_of(response: Response) -> (Value, String) {
    assert_eq!(response.status(), 200);
    let tag = response.headers()["etag"].to_str().unwrap().to_string();
    (response.json().await.unwrap(), tag)
}

async fn assert_audited(server: &TestServer, action: &str, outcome: &str, target: Value) -> Value {
    let events = server
        .provider
        .store()
        .recent_audit_events(50)
        .await
        .unwrap();
    events
        .iter()
        .map(|e| (e, serde_json::from_str::<Value>(&e.detail).unwrap()))
        .find(|(e, detail)| {
            e.event_type == action && e.outcome == outcome && detail["target"] == target
        })
        .map(|(_, detail)| detail)
        .unwrap_or_else(|| panic!("no {outcome} {action} on {target}"))
}

/// Roles are read with the person's version as the ETag, and set to exactly the list sent
/// when `If-Match` names that version, which the change bumps (RFC 9110 §13.1.1).
#[tokio::test]
async fn roles_are_read_and_set_against_the_version_read() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let (client, token) = server.service_token(ALL_ADMIN_SCOPES).await;

        let (body, tag) = roles_of(get_roles(&server, &token, &alice).await).await;
        assert_eq!(body, json!({ "roles": [], "version": 1 }));
        assert_eq!(tag, "\"1\"");
        assert_audited(
            &server,
            "admin.user.roles.read",
            "success",
            json!({ "user": alice }),
        )
        .await;

        let wanted = json!({ "roles": ["user-admin", "auditor"] });
        let (body, tag) =
            roles_of(put_roles(&server, &token, &alice, Some("\"1\""), &wanted).await).await;
        assert_eq!(
            body,
            json!({ "roles": ["auditor", "user-admin"], "version": 2 })
        );
        assert_eq!(tag, "\"2\"");
        let detail = assert_audited(
            &server,
            "admin.user.roles.update",
            "success",
            json!({ "user": alice }),
        )
        .await;
        assert_eq!(detail["admin"], format!("client:{}", client.id));
        assert_eq!(detail["granted"], json!(["auditor", "user-admin"]));

        // `*` matches whatever the version is; the set replaces the old one.
        let wanted = json!({ "roles": ["auditor"] });
        let (body, _) =
            roles_of(put_roles(&server, &token, &alice, Some("*"), &wanted).await).await;
        assert_eq!(body, json!({ "roles": ["auditor"], "version": 3 }));
        let (body, _) = roles_of(get_roles(&server, &token, &alice).await).await;
        assert_eq!(body["roles"], json!(["auditor"]));
        server.stop().await;
    }
}

/// Two admins who read the same version: the second change gets 412, a missing `If-Match`
/// 428 (RFC 6585 §3), and a weak tag never matches.
#[tokio::test]
async fn a_stale_or_missing_if_match_changes_nothing() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let (_, token) = server.service_token(ALL_ADMIN_SCOPES).await;
        let first = json!({ "roles": ["auditor"] });
        let second = json!({ "roles": ["key-admin"] });
        assert_eq!(
            put_roles(&server, &token, &alice, Some("\"1\""), &first)
                .await
                .status(),
            200
        );

        for (tag, expected) in [(Some("\"1\""), 412), (Some("W/\"2\""), 412), (None, 428)] {
            let response = put_roles(&server, &token, &alice, tag, &second).await;
            let (status, _) = problem(response).await;
            assert_eq!(status, expected, "{tag:?}");
        }
        let (body, _) = roles_of(get_roles(&server, &token, &alice).await).await;
        assert_eq!(body, json!({ "roles": ["auditor"], "version": 2 }));
        assert_audited(
            &server,
            "admin.user.roles.update",
            "failure",
            json!({ "user": alice }),
        )
        .await;
        server.stop().await;
    }
}

/// Every unknown or repeated role is named by its JSON Pointer, and a field the body may
/// not carry is refused; nothing changes.
#[tokio::test]
async fn unknown_roles_and_fields_are_named() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let (_, token) = server.service_token(ALL_ADMIN_SCOPES).await;

        let body = json!({ "roles": ["auditor", "root", "auditor"] });
        let (status, problem_body) =
            problem(put_roles(&server, &token, &alice, Some("*"), &body).await).await;
        assert_eq!(status, 400);
        assert_eq!(problem_body["type"], "urn:tessera:problem:validation");
        let fields: Vec<&str> = problem_body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["/roles/1", "/roles/2"]);

        let body = json!({ "roles": [], "version": 9 });
        let (status, problem_body) =
            problem(put_roles(&server, &token, &alice, Some("*"), &body).await).await;
        assert_eq!(status, 400);
        let error = problem_body["errors"][0].to_string();
        assert!(error.contains("version"), "{error}");

        let (body, _) = roles_of(get_roles(&server, &token, &alice).await).await;
        assert_eq!(body, json!({ "roles": [], "version": 1 }));
        server.stop().await;
    }
}

/// A delegated admin cannot mint a bigger admin, nor strip one: granting or taking away a
/// role with a scope the caller lacks is 403 `Escalation`; a role within the caller's scopes
/// can be given. (For people the same rule holds, but today only the `admin` role carries
/// admin:roles:write, and it holds every scope.)
#[tokio::test]
async fn a_caller_cannot_grant_or_take_a_scope_it_does_not_hold() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let carol = server.create_user("carol").await;
        server.grant_roles("carol", &["admin"]).await;
        let (_, delegated) = server.service_token(USER_ADMIN).await;

        let (body, _) = roles_of(
            put_roles(
                &server,
                &delegated,
                &alice,
                Some("*"),
                &json!({ "roles": ["user-admin"] }),
            )
            .await,
        )
        .await;
        assert_eq!(body["roles"], json!(["user-admin"]));

        for (user_id, roles) in [
            (&alice, json!(["user-admin", "admin"])),
            (&carol, json!([])),
        ] {
            let response = put_roles(
                &server,
                &delegated,
                user_id,
                Some("*"),
                &json!({ "roles": roles }),
            )
            .await;
            let (status, body) = problem(response).await;
            assert_eq!(status, 403);
            assert_eq!(body["type"], "urn:tessera:problem:escalation");
            assert!(body["detail"].as_str().unwrap().contains("admin"), "{body}");
        }
        let (body, _) = roles_of(get_roles(&server, &delegated, &carol).await).await;
        assert_eq!(body["roles"], json!(["admin"]));

        server.stop().await;
    }
}

/// 401 without a token; 403 without the endpoint's scope (reading needs admin:users:read,
/// setting admin:roles:write, which admin:users:write does not give); 404 for nobody.
#[tokio::test]
async fn roles_refuse_401_403_and_404() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let alice = server.create_user("alice").await;
        let body = json!({ "roles": [] });
        let path = format!("/users/{alice}/roles");

        let (status, _) = problem(server.admin(Method::GET, None, &path, None).await).await;
        assert_eq!(status, 401);
        let (status, _) = problem(server.admin(Method::PUT, None, &path, Some(&body)).await).await;
        assert_eq!(status, 401);

        let (_, audit_only) = server.service_token("admin:audit:read").await;
        let (status, problem_body) = problem(get_roles(&server, &audit_only, &alice).await).await;
        assert_eq!(status, 403);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:insufficient-scope"
        );
        let (_, users_only) = server
            .service_token("admin:users:read admin:users:write")
            .await;
        let response = put_roles(&server, &users_only, &alice, Some("*"), &body).await;
        let (status, problem_body) = problem(response).await;
        assert_eq!(status, 403);
        assert_eq!(
            problem_body["type"],
            "urn:tessera:problem:insufficient-scope"
        );
        assert_audited(
            &server,
            "admin.user.roles.update",
            "failure",
            json!({ "user": alice }),
        )
        .await;

        let (_, token) = server.service_token(ALL_ADMIN_SCOPES).await;
        let (status, _) = problem(get_roles(&server, &token, "nobody").await).await;
        assert_eq!(status, 404);
        let (status, _) =
            problem(put_roles(&server, &token, "nobody", Some("*"), &body).await).await;
        assert_eq!(status, 404);
        server.stop().await;
    }
}
