//! Prometheus metrics (issue 6, "Metrics"): requests by route and status, and attempts by
//! audit event type and outcome, scraped from the separate metrics listener.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_e2e::expect::*;
use tessera_e2e::{engines, http_client, Browser, TestServer};

/// Starts the scrape endpoint on a port of its own; returns its URL.
async fn metrics_endpoint() -> String {
    let handle = tessera_server::metrics::install().unwrap();
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
