//! Export of the sealed audit trail: the webhook (ordered, signed, retried until
//! acknowledged, never losing an event) and JSON lines to a file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use serde_json::{json, Value};
use sha2::Sha256;
use tessera_core::audit::webhook::{Delivery, SIGNATURE_HEADER};
use tessera_core::audit::{Checkpoint, ExportTarget, Exporter, WebhookTarget};
use tessera_core::unix_now;
use tessera_e2e::{engines, TestServer};
use tessera_server::ServerOptions;
use tessera_store::testing::tamper;
use tessera_store::{AuditEvent, Outcome, Store};

const SECRET: &str = "a webhook secret of thirty-two characters or more";

/// Events in the test: three batches of at most 100.
const EVENTS: i64 = 250;

/// What the receiver saw: every post, accepted or not.
#[derive(Default)]
struct Received {
    /// Posts still to refuse.
    failures_left: usize,
    /// Bodies of the posts answered 200, in arrival order.
    accepted: Vec<String>,
    /// Bodies of the posts answered 503.
    refused: Vec<String>,
    /// Posts without a valid signature (answered 400).
    unsigned: usize,
    /// The signed time `t` of each post answered 200.
    times: Vec<i64>,
}

type Shared = Arc<Mutex<Received>>;

/// The receiver: checks the signature as a SIEM would, refuses the first posts with 503.
async fn receive(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signed = headers
        .get(SIGNATURE_HEADER)
        .and_then(|header| header.to_str().ok())
        .is_some_and(|header| signature_is_valid(header, &body));
    let body = String::from_utf8(body.to_vec()).unwrap();
    let mut seen = seen.lock().unwrap();
    if !signed || headers["content-type"] != "application/x-ndjson" {
        seen.unsigned += 1;
        return StatusCode::BAD_REQUEST;
    }
    if seen.failures_left > 0 {
        seen.failures_left -= 1;
        seen.refused.push(body);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let time = headers[SIGNATURE_HEADER]
        .to_str()
        .unwrap()
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    seen.times.push(time);
    seen.accepted.push(body);
    StatusCode::OK
}

/// `t=<time>,v1=<hex HMAC-SHA-256(secret, "<time>.<body>")>`, compared in constant time.
fn signature_is_valid(header: &str, body: &[u8]) -> bool {
    let Some((time, mac)) = header.split_once(",v1=") else {
        return false;
    };
    let Some(time) = time.strip_prefix("t=") else {
        return false;
    };
    let Ok(mac) = (0..mac.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(mac.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let mut expected = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    expected.update(time.as_bytes());
    expected.update(b".");
    expected.update(body);
    expected.verify_slice(&mac).is_ok()
}

/// Starts the receiver on a port of its own; returns its URL.
async fn start_receiver(seen: Shared) -> String {
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn record(store: &Store, n: i64, occurred_at: i64) {
    for i in 0..n {
        store
            .record(&AuditEvent {
                occurred_at,
                event_type: "token.authorization_code",
                outcome: Outcome::Success,
                client_id: Some("app".into()),
                detail: json!({ "n": i }),
                ..AuditEvent::default()
            })
            .await
            .unwrap();
    }
}

/// The `seq` of every line of every body, in order.
fn positions(bodies: &[String]) -> Vec<i64> {
    bodies
        .iter()
        .flat_map(|body| body.lines())
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["seq"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

/// A receiver that fails the first three posts and then recovers gets every event, once,
/// in chain order, each post validly signed; the failed batch is retried whole, after
/// waits that double.
#[tokio::test]
async fn the_webhook_gets_every_event_in_order_through_failures() {
    for engine in engines() {
        let seen = Shared::default();
        seen.lock().unwrap().failures_left = 3;
        let url = start_receiver(seen.clone()).await;
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.danger_allow_private_outbound = true;
            s.audit.webhook = Some(WebhookTarget {
                url,
                secret: SecretString::from(SECRET),
            });
        })
        .await;
        let provider = &server.provider;
        let mut now = unix_now();
        record(provider.store(), EVENTS - 50, now - 10).await;
        provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();

        let mut waits = Vec::new();
        let mut late_events_recorded = false;
        let mut finished = false;
        // Bounded, so that a delivery that never succeeds fails the test instead of hanging it.
        for _ in 0..20 {
            match provider.deliver_audit_batch(now).await.unwrap() {
                Delivery::Failed { retry_at } => {
                    waits.push(retry_at - now);
                    // Not yet due: nothing is posted.
                    assert_eq!(
                        provider.deliver_audit_batch(retry_at - 1).await.unwrap(),
                        Delivery::Idle
                    );
                    now = retry_at;
                }
                Delivery::Delivered { .. } => {}
                Delivery::Idle if !late_events_recorded => {
                    // More events, sealed after the first were delivered.
                    late_events_recorded = true;
                    record(provider.store(), 50, now - 10).await;
                    provider
                        .seal_audit_trail(now, Checkpoint::Now)
                        .await
                        .unwrap();
                }
                Delivery::Idle => {
                    finished = true;
                    break;
                }
            }
        }

        // Every sealed event: the test's, and those recorded as the server started.
        let head = provider.store().audit_chain_head().await.unwrap().seq;
        assert!(head >= EVENTS);
        server.stop().await;
        let seen = seen.lock().unwrap();
        assert!(
            finished,
            "deliveries still failing; unsigned posts: {}",
            seen.unsigned
        );
        assert_eq!(seen.unsigned, 0);
        assert_eq!(waits, [2, 4, 8]);
        assert_eq!(positions(&seen.accepted), (1..=head).collect::<Vec<_>>());
        let first_batch: Vec<i64> = (1..=100).collect();
        for refused in &seen.refused {
            assert_eq!(positions(std::slice::from_ref(refused)), first_batch);
        }
        assert_eq!(seen.refused.len(), 3);
    }
}

/// A delivery run reads the clock for each batch: a run that takes long (a backlog after an
/// outage) signs each post with the time it is sent, and leases each batch from then, so
/// the cursor's next attempt is due from the last batch's time, not the run's start.
#[tokio::test]
async fn each_batch_of_a_run_is_signed_at_its_own_time() {
    for engine in engines() {
        let seen = Shared::default();
        let url = start_receiver(seen.clone()).await;
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.danger_allow_private_outbound = true;
            s.audit.webhook = Some(WebhookTarget {
                url,
                secret: SecretString::from(SECRET),
            });
        })
        .await;
        let provider = &server.provider;
        let now = unix_now();
        // Three batches of at most 100, with or without the few events of the server's start.
        record(provider.store(), EVENTS, now - 10).await;
        provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();

        // A clock that moves 100 seconds each time it is read.
        let reads = std::cell::Cell::new(0);
        let clock = || {
            let read = reads.get();
            reads.set(read + 1);
            now + 100 * read
        };
        let batches = provider.deliver_audit_webhook(clock).await.unwrap();
        assert_eq!(batches, 3);
        let cursor = provider.store().audit_webhook_cursor().await.unwrap();
        assert_eq!(cursor.next_attempt_at, now + 200);
        server.stop().await;
        let seen = seen.lock().unwrap();
        assert_eq!(seen.times, [now, now + 100, now + 200]);
    }
}

/// Retention keeps what the webhook has not been sent yet.
#[tokio::test]
async fn retention_keeps_events_the_webhook_is_owed() {
    for engine in engines() {
        let seen = Shared::default();
        seen.lock().unwrap().failures_left = usize::MAX;
        let url = start_receiver(seen.clone()).await;
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.danger_allow_private_outbound = true;
            s.audit.retention_days = 1;
            s.audit.webhook = Some(WebhookTarget {
                url,
                secret: SecretString::from(SECRET),
            });
        })
        .await;
        let provider = &server.provider;
        let now = unix_now();
        record(provider.store(), 3, now - 10).await;
        provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();
        assert!(matches!(
            provider.deliver_audit_batch(now).await.unwrap(),
            Delivery::Failed { .. }
        ));

        let removed = provider
            .purge_audit_trail(now + 3 * 24 * 3600)
            .await
            .unwrap();
        assert_eq!(removed, 0);
        server.stop().await;
    }
}

/// The file export writes every sealed event once, in chain order, and a restart resumes
/// after the last line instead of starting over.
#[tokio::test]
async fn the_file_export_resumes_after_its_last_line() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let store = server.provider.store();
        let (dir, target) = export_file();
        let now = unix_now();

        record(store, 3, now - 10).await;
        server
            .provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();
        let mut exporter = Exporter::open(&target, store).await.unwrap().unwrap();
        assert_eq!(exporter.export(store).await.unwrap(), 3);
        drop(exporter);

        record(store, 2, now - 10).await;
        server
            .provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();
        let mut restarted = Exporter::open(&target, store).await.unwrap().unwrap();
        assert_eq!(restarted.export(store).await.unwrap(), 2);

        assert_eq!(exported_positions(&target), [1, 2, 3, 4, 5]);
        let ExportTarget::File(path) = &target else {
            unreachable!()
        };
        // Readable and writable by its owner alone, whatever the umask allows.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        server.stop().await;
    }
}

/// A file export in a directory of its own, which the test removes when done.
fn export_file() -> (std::path::PathBuf, ExportTarget) {
    let dir = std::env::temp_dir().join(format!("tessera-audit-{}", unix_now_nanos()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = ExportTarget::File(dir.join("audit.jsonl"));
    (dir, target)
}

/// The positions on the lines of a file export, in file order.
fn exported_positions(target: &ExportTarget) -> Vec<i64> {
    let ExportTarget::File(path) = target else {
        unreachable!()
    };
    positions(&[std::fs::read_to_string(path).unwrap()])
}

fn unix_now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// After the chain was cut below the file's last line (by someone writing to the database,
/// while no server ran), the positions sealed next are exported, though the file already
/// holds those numbers: they were skipped as written before (hostile pass, MEDIUM).
#[tokio::test]
async fn the_file_export_goes_on_after_the_chain_was_cut_below_it() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let store = server.provider.store();
        let (dir, target) = export_file();
        let now = unix_now();
        record(store, 5, now - 10).await;
        server
            .provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();
        let mut exporter = Exporter::open(&target, store).await.unwrap().unwrap();
        assert_eq!(exporter.export(store).await.unwrap(), 5);
        drop(exporter);

        // Cut the chain back to position 3, then seal two new events at 4 and 5 as a server
        // started afterwards would (their hashes do not matter to the export).
        let head = store
            .sealed_audit_events(2, 1)
            .await
            .unwrap()
            .remove(0)
            .hash;
        for sql in [
            "DELETE FROM audit_events WHERE chain_seq > 3".to_string(),
            "DELETE FROM audit_checkpoints".to_string(),
            format!(
                "UPDATE audit_chain SET head_seq = 3, head_hash = '{head}', checkpoint_seq = 0"
            ),
        ] {
            tamper(store, &sql).await;
        }
        record(store, 2, now - 5).await;
        let unsealed: Vec<i64> = store
            .audit_events(&tessera_store::AuditFilter::default(), 2)
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        for (seq, id) in [(5, unsealed[0]), (4, unsealed[1])] {
            let sql = format!(
                "UPDATE audit_events SET chain_seq = {seq}, chain_prev = 'p{seq}', \
                 chain_hash = 'h{seq}' WHERE id = {id}"
            );
            tamper(store, &sql).await;
        }

        let mut restarted = Exporter::open(&target, store).await.unwrap().unwrap();
        assert_eq!(restarted.export(store).await.unwrap(), 2);
        assert_eq!(exported_positions(&target), [1, 2, 3, 4, 5, 4, 5]);
        std::fs::remove_dir_all(&dir).unwrap();
        server.stop().await;
    }
}
