//! The audit trail through the admin API (issue 5, "Audit events: query by user, client,
//! type, outcome and time range"): newest first, every filter narrowing the answer, pages
//! that follow each other without gaps or repeats, and each query itself recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{json, Value};
use tessera_e2e::admin::problem;
use tessera_e2e::{engines, TestServer};
use tessera_store::{AuditEvent, Outcome};

const AUDIT: &str = "admin:audit:read";

/// Records four events at fixed times, so that filters have something to tell apart.
async fn seed(server: &TestServer) {
    let rows: [(i64, &'static str, Outcome, &str, &str); 4] = [
        (
            1_000,
            "login.password",
            Outcome::Failure,
            "u-alice",
            "c-app",
        ),
        (
            2_000,
            "login.password",
            Outcome::Success,
            "u-alice",
            "c-app",
        ),
        (3_000, "token.refresh", Outcome::Success, "u-bob", "c-app"),
        (
            4_000,
            "login.password",
            Outcome::Success,
            "u-bob",
            "c-other",
        ),
    ];
    for (at, event_type, outcome, user, client) in rows {
        let event = AuditEvent {
            occurred_at: at,
            event_type,
            outcome,
            user_id: Some(user.into()),
            client_id: Some(client.into()),
            source_ip: Some("198.51.100.7".into()),
            user_agent: Some("curl/8".into()),
            request_id: Some(format!("req-{at}")),
            detail: json!({ "seeded": at }),
            device_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
            session_id: Some(format!("sid-{at}")),
            risk_score: Some(35),
            risk_reasons: Some(r#"["new_device","new_network"]"#.into()),
        };
        server.provider.store().record(&event).await.unwrap();
    }
}

async fn page(server: &TestServer, token: &str, query: &str) -> Value {
    let path = format!("/audit-events?{query}");
    let response = server.admin(Method::GET, Some(token), &path, None).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn times(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["occurred_at"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn each_filter_narrows_the_trail_and_every_column_is_shown() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        seed(&server).await;
        let (_, token) = server.service_token(AUDIT).await;
        let seeded = "until=5000";

        assert_eq!(
            times(&page(&server, &token, seeded).await),
            [4000, 3000, 2000, 1000]
        );
        let cases = [
            ("user_id=u-alice", vec![2000, 1000]),
            ("client_id=c-app", vec![3000, 2000, 1000]),
            ("type=token.refresh", vec![3000]),
            ("outcome=failure", vec![1000]),
            ("since=2000", vec![4000, 3000, 2000]),
            (
                "user_id=u-bob&type=login.password&outcome=success",
                vec![4000],
            ),
        ];
        let window = page(&server, &token, "since=2000&until=4000").await;
        assert_eq!(times(&window), [3000, 2000]);
        for (query, expected) in cases {
            let query = format!("{query}&{seeded}");
            assert_eq!(
                times(&page(&server, &token, &query).await),
                expected,
                "{query}"
            );
        }

        let newest = &page(&server, &token, "user_id=u-bob&type=token.refresh").await["items"][0];
        let id = newest["id"].clone();
        assert_eq!(
            *newest,
            json!({
                "id": id,
                "occurred_at": 3000,
                "type": "token.refresh",
                "outcome": "success",
                "user_id": "u-bob",
                "client_id": "c-app",
                "source_ip": "198.51.100.7",
                "user_agent": "curl/8",
                "request_id": "req-3000",
                "detail": { "seeded": 3000 },
                "device_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                "session_id": "sid-3000",
                "risk_score": 35,
                "risk_reasons": ["new_device", "new_network"],
            })
        );
        server.stop().await;
    }
}

/// Pages follow each other by cursor until `next_cursor` is null, with the filters kept.
#[tokio::test]
async fn pages_follow_each_other_by_cursor() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        seed(&server).await;
        let (_, token) = server.service_token(AUDIT).await;
        let first = page(&server, &token, "client_id=c-app&limit=2").await;
        assert_eq!(times(&first), [3000, 2000]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = page(
            &server,
            &token,
            &format!("client_id=c-app&limit=2&cursor={cursor}"),
        )
        .await;
        assert_eq!(times(&second), [1000]);
        assert_eq!(second["next_cursor"], Value::Null);
        server.stop().await;
    }
}

/// Every offending parameter is named at once; unknown and repeated ones are refused. The
/// refused query is recorded as a failure.
#[tokio::test]
async fn an_invalid_query_names_every_offending_parameter() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(AUDIT).await;
        let path = "/audit-events?limit=500&outcome=maybe&since=soon&cursor=nope&colour=red";
        let response = server.admin(Method::GET, Some(&token), path, None).await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 400);
        assert_eq!(body["type"], "urn:tessera:problem:validation");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["limit", "outcome", "since", "cursor", "colour"]);

        let path = "/audit-events?type=a&type=b";
        let (status, body) =
            problem(server.admin(Method::GET, Some(&token), path, None).await).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["field"], "type");

        let trail = page(&server, &token, "type=admin.audit.list&outcome=failure").await;
        assert_eq!(trail["items"].as_array().unwrap().len(), 2);
        assert_eq!(trail["items"][0]["detail"]["status"], 400);
        server.stop().await;
    }
}

/// RFC 6750 §3.1: 401 without a token, 403 with a token that lacks `admin:audit:read`.
#[tokio::test]
async fn the_trail_needs_the_audit_scope() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let response = server.admin(Method::GET, None, "/audit-events", None).await;
        let (status, _) = problem(response).await;
        assert_eq!(status, 401);

        let (_, token) = server
            .service_token("admin:keys:read admin:users:read")
            .await;
        let response = server
            .admin(Method::GET, Some(&token), "/audit-events", None)
            .await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 403);
        assert!(body["detail"].as_str().unwrap().contains(AUDIT));
        server.stop().await;
    }
}

/// Each query is recorded after it ran, with the admin, the action, the filters as target
/// and the outcome: the next query finds it first.
#[tokio::test]
async fn each_query_is_itself_recorded() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (client, token) = server.service_token(AUDIT).await;
        page(&server, &token, "user_id=u-alice&since=10").await;
        let trail = page(&server, &token, "type=admin.audit.list").await;
        let recorded = &trail["items"][0];
        assert_eq!(recorded["outcome"], "success");
        assert_eq!(recorded["client_id"], client.id.as_str());
        assert_eq!(recorded["detail"]["admin"], format!("client:{}", client.id));
        assert_eq!(
            recorded["detail"]["target"],
            json!({
                "user_id": "u-alice",
                "client_id": null,
                "type": null,
                "outcome": null,
                "since": 10,
                "until": null,
            })
        );
        server.stop().await;
    }
}
