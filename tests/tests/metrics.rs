//! Prometheus metrics (issue 6, "Metrics"): requests by route and status, attempts by audit
//! event type and outcome, and the audit webhook's backlog, scraped from the separate metrics
//! listener.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;
use tessera_core::audit::{Checkpoint, WebhookTarget};
use tessera_core::unix_now;
use tessera_e2e::expect::*;
use tessera_e2e::{engines, http_client, Browser, TestServer};
use tessera_server::ServerOptions;
use tessera_store::{AuditEvent, Outcome};

/// Starts the scrape endpoint on a port of its own; returns its URL. The recorder is the
/// process's, installed once for the tests that run at the same time (`install` is meant to
/// be called once, at start).
async fn metrics_endpoint() -> String {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    let handle = HANDLE
        .get_or_init(|| tessera_server::metrics::install().unwrap())
        .clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(tessera_server::metrics::serve(
        listener,
        handle,
        std::future::pending(),
    ));
    url
}

/// The value of the sample named `name` whose labels include every one of `labels`
/// (`key="value"`), or 0 when there is none yet.
fn sample(scrape: &str, name: &str, labels: &[&str]) -> f64 {
    scrape
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

async fn scrape(url: &str) -> String {
    let response = http_client().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let media = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(media.starts_with("text/plain; version=0.0.4"), "{media}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn requests_and_attempts_are_counted_by_route_status_and_outcome() {
    let url = metrics_endpoint().await;
    let discovery = [
        "method=\"GET\"",
        "route=\"/.well-known/openid-configuration\"",
        "status=\"200\"",
    ];
    let unmatched = ["route=\"unmatched\"", "status=\"404\""];
    let failed_login = ["type=\"login.password\"", "outcome=\"failure\""];
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let before = scrape(&url).await;

        for _ in 0..2 {
            let response = http_client()
                .get(server.url("/.well-known/openid-configuration"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
        let response = http_client()
            .get(server.url("/no-such-page"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        let client = server.create_client(false, true).await;
        let browser = Browser::new();
        let login = login_page(&server, &browser, &client).await;
        let response = browser
            .submit_login(&server, &login, "nobody", "wrong password")
            .await;
        assert!(page_of(response).await.contains(LOGIN_FAILED));

        let after = scrape(&url).await;
        let delta = |name: &str, labels: &[&str]| {
            sample(&after, name, labels) - sample(&before, name, labels)
        };
        assert_eq!(delta("tessera_http_requests_total", &discovery), 2.0);
        assert_eq!(delta("tessera_http_requests_total", &unmatched), 1.0);
        assert_eq!(
            delta(
                "tessera_http_request_duration_seconds_count",
                &discovery[..2]
            ),
            2.0
        );
        assert_eq!(delta("tessera_audit_events_total", &failed_login), 1.0);
        // The raw path of an unmatched request never becomes a label.
        assert!(!after.contains("no-such-page"));
        server.stop().await;
    }
}

/// A webhook receiver that answers 503 until `accept` is set, then 200.
async fn start_receiver(accept: Arc<AtomicBool>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let accept = accept.clone();
            async move {
                if accept.load(Ordering::SeqCst) {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// `tessera_outbox_backlog{outbox="audit_webhook"}`: positions sealed but not acknowledged,
/// as a delivery run leaves them.
#[tokio::test]
async fn the_webhook_backlog_is_what_the_receiver_has_not_acknowledged() {
    let url = metrics_endpoint().await;
    let backlog = ["outbox=\"audit_webhook\""];
    for engine in engines() {
        let accept = Arc::new(AtomicBool::new(false));
        let hook = start_receiver(accept.clone()).await;
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.danger_allow_private_outbound = true;
            s.audit.webhook = Some(WebhookTarget {
                url: hook,
                secret: SecretString::from("a webhook secret of thirty-two characters or more"),
            });
        })
        .await;
        let provider = &server.provider;
        let now = unix_now();
        for _ in 0..3 {
            let event = AuditEvent {
                occurred_at: now - 10,
                event_type: "login.password",
                outcome: Outcome::Success,
                ..AuditEvent::default()
            };
            provider.store().record(&event).await.unwrap();
        }
        let sealed = provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();
        assert_eq!(sealed.events, 3);

        // Refused: everything sealed is still owed.
        assert_eq!(provider.deliver_audit_webhook(|| now).await.unwrap(), 0);
        let owed = sample(&scrape(&url).await, "tessera_outbox_backlog", &backlog);
        assert_eq!(owed, sealed.head as f64);

        // Accepted, once the retry is due: nothing is owed.
        accept.store(true, Ordering::SeqCst);
        assert_eq!(
            provider.deliver_audit_webhook(|| now + 10).await.unwrap(),
            1
        );
        let owed = sample(&scrape(&url).await, "tessera_outbox_backlog", &backlog);
        assert_eq!(owed, 0.0);
        server.stop().await;
    }
}

/// Each scored login counts once by what its risk decided (a first login scores nothing:
/// `allow`). Only successful logins here, so that the other test's count of failed ones
/// holds while both run.
#[tokio::test]
async fn risk_decisions_are_counted() {
    let url = metrics_endpoint().await;
    let allow = ["decision=\"allow\""];
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        let client = server.create_client(false, true).await;
        let before = scrape(&url).await;

        Browser::new()
            .sign_in(&server, &server.authorize_url(&client, &[]), "alice")
            .await;

        let after = scrape(&url).await;
        let delta = sample(&after, "tessera_risk_decisions_total", &allow)
            - sample(&before, "tessera_risk_decisions_total", &allow);
        assert_eq!(delta, 1.0);
        server.stop().await;
    }
}
