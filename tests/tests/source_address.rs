//! The source address in the audit trail: the peer, unless the peer is a listed proxy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_e2e::expect::*;
use tessera_e2e::{engines, Browser, TestServer};
use tessera_server::ServerOptions;

/// A documentation address (RFC 5737) a client claims, or a proxy forwards.
const CLAIMED: &str = "203.0.113.7";

/// Posts a failed login from a browser that sends `X-Forwarded-For: 203.0.113.7`, and
/// returns the source address the audit trail recorded for it.
async fn recorded_source(server: &TestServer) -> String {
    recorded_source_with(server, CLAIMED.as_bytes()).await
}

/// As [`recorded_source`], with `X-Forwarded-For` set to these raw bytes.
async fn recorded_source_with(server: &TestServer, forwarded_for: &[u8]) -> String {
    let client = server.create_client(false, true).await;
    let browser = Browser::new();
    let login = login_page(server, &browser, &client).await;
    let csrf = tessera_e2e::hidden_field(&login, "csrf").unwrap();
    let response = browser
        .http
        .post(server.url("/login"))
        .header(
            "x-forwarded-for",
            reqwest::header::HeaderValue::from_bytes(forwarded_for).unwrap(),
        )
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert!(page_of(response).await.contains(LOGIN_FAILED));
    let events = server
        .provider
        .store()
        .recent_audit_events(20)
        .await
        .unwrap();
    let failed = events
        .iter()
        .find(|e| e.event_type == "login.password" && e.outcome == "failure")
        .expect("the failed login is recorded");
    failed.source_ip.clone().expect("a source address")
}

/// A client cannot choose its own address by sending `X-Forwarded-For`.
#[tokio::test]
async fn without_trusted_proxies_the_peer_address_is_recorded() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("alice").await;
        assert_eq!(recorded_source(&server).await, "127.0.0.1");
        server.stop().await;
    }
}

/// Behind a listed proxy (here the loopback the test connects from), the address it
/// forwards is recorded.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_recorded() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        })
        .await;
        server.create_user("alice").await;
        assert_eq!(recorded_source(&server).await, CLAIMED);
        server.stop().await;
    }
}

/// A byte that is not text, planted left of the address the proxy appended (as a proxy adds
/// the peer to whatever the client sent), does not make the proxy's own address the source:
/// that had let a login from abroad be scored as coming from the proxy.
#[tokio::test]
async fn a_planted_byte_that_is_not_text_does_not_hide_the_forwarded_address() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        })
        .await;
        server.create_user("alice").await;
        let recorded = recorded_source_with(&server, b"\xff, 203.0.113.7").await;
        assert_eq!(recorded, CLAIMED);
        server.stop().await;
    }
}
