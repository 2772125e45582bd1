//! The tamper-evident audit trail: sealing, `audit verify`, and what it finds when someone
//! with write access to the database edits, deletes or moves a sealed event, or forges a
//! checkpoint; retention that leaves the rest verifiable; late-committing events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use tessera_core::audit::checkpoint::{Forgery, KeyProblem};
use tessera_core::audit::verify::{Finding, Report, CHECKPOINT_GRACE};
use tessera_core::audit::Checkpoint;
use tessera_core::{unix_now, ProviderError};
use tessera_e2e::{engines, TestServer};
use tessera_server::ServerOptions;
use tessera_store::testing::tamper;
use tessera_store::{AuditEvent, Engine, Outcome, Store};

/// Records `n` events that occurred `age` seconds before `now`; returns their ids' order
/// as the store gives them (the test reads them back sealed).
async fn record(store: &Store, n: usize, occurred_at: i64) {
    for i in 0..n {
        store
            .record(&AuditEvent {
                occurred_at,
                event_type: "login.password",
                outcome: if i % 2 == 0 {
                    Outcome::Success
                } else {
                    Outcome::Failure
                },
                user_id: Some(format!("user-{i}")),
                client_id: Some("app".into()),
                source_ip: Some("192.0.2.1".into()),
                detail: json!({ "n": i }),
                ..AuditEvent::default()
            })
            .await
            .unwrap();
    }
}

/// A server whose trail holds five events, sealed under one checkpoint.
async fn sealed_server(engine: Engine) -> TestServer {
    let server = TestServer::start(engine).await;
    let now = unix_now();
    record(server.provider.store(), 5, now - 10).await;
    let sealed = server
        .provider
        .seal_audit_trail(now, Checkpoint::Now)
        .await
        .unwrap();
    assert_eq!((sealed.events, sealed.head, sealed.checkpoints), (5, 5, 1));
    server
}

async fn verify(server: &TestServer) -> Report {
    verify_at(server, unix_now()).await
}

async fn verify_at(server: &TestServer, now: i64) -> Report {
    server.provider.verify_audit_trail(now).await.unwrap()
}

/// The id of the event sealed at `seq`.
async fn id_at(store: &Store, seq: i64) -> i64 {
    let events = store.sealed_audit_events(seq - 1, 1).await.unwrap();
    assert_eq!(events[0].seq, seq);
    events[0].event.id
}

#[tokio::test]
async fn a_clean_chain_verifies() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let report = verify(&server).await;
        assert_eq!(report.findings, []);
        assert_eq!(
            (report.events, report.first, report.last),
            (5, Some(1), Some(5))
        );
        assert_eq!(report.checkpoints, 1);
        server.stop().await;
    }
}

/// Events not yet sealed are counted apart, not reported as tampering.
#[tokio::test]
async fn unsealed_events_are_not_findings() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let before = verify(&server).await.unsealed;
        record(server.provider.store(), 2, unix_now()).await;
        let report = verify(&server).await;
        assert_eq!(report.findings, []);
        assert_eq!(report.unsealed, before + 2);
        server.stop().await;
    }
}

#[tokio::test]
async fn an_edited_event_is_found() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let store = server.provider.store();
        let id = id_at(store, 3).await;
        tamper(
            store,
            "UPDATE audit_events SET detail = '{\"n\":\"edited\"}' WHERE chain_seq = 3",
        )
        .await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::Edited { seq: 3, id }]
        );
        server.stop().await;
    }
}

/// Whoever edits an event and recomputes its hash leaves the next event naming the old
/// one; whoever recomputes every hash to the end is caught by the signed checkpoint.
#[tokio::test]
async fn an_edited_and_rehashed_event_is_found() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let store = server.provider.store();
        let id = id_at(store, 2).await;
        rewrite(store, 2, 2).await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::Rehashed { seq: 2, id }]
        );

        rewrite(store, 3, 5).await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::CheckpointMismatch { seq: 5 }]
        );
        server.stop().await;
    }
}

/// Changes the detail of the events at `from..=to` and recomputes their hashes and links,
/// as an intruder who knows the chain's format would.
async fn rewrite(store: &Store, from: i64, to: i64) {
    for seq in from..=to {
        let mut event = store
            .sealed_audit_events(seq - 1, 1)
            .await
            .unwrap()
            .remove(0);
        if seq > 1 {
            event.prev = store.sealed_audit_events(seq - 2, 1).await.unwrap()[0]
                .hash
                .clone();
        }
        event.event.detail = r#"{"n":"rewritten"}"#.into();
        let hash = tessera_core::audit::chain::link_hash(&event.prev, &event.event).unwrap();
        tamper(
            store,
            &format!(
                "UPDATE audit_events SET detail = '{}', chain_prev = '{}', chain_hash = '{hash}' \
                 WHERE chain_seq = {seq}",
                event.event.detail, event.prev
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn a_deleted_event_is_found() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let store = server.provider.store();
        tamper(store, "DELETE FROM audit_events WHERE chain_seq = 3").await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::Deleted { from: 3, to: 3 }]
        );

        // The newest events too: the checkpoint still vouches for position 5.
        tamper(store, "DELETE FROM audit_events WHERE chain_seq >= 4").await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::Deleted { from: 3, to: 5 }]
        );
        server.stop().await;
    }
}

/// The oldest events, deleted with retention off, are found.
#[tokio::test]
async fn deleting_the_oldest_events_is_found() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        tamper(
            server.provider.store(),
            "DELETE FROM audit_events WHERE chain_seq <= 2",
        )
        .await;
        assert_eq!(
            verify(&server).await.findings,
            [
                Finding::PurgedWithoutRetention { first: 3 },
                Finding::Unanchored { first: 3 }
            ]
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn reordered_events_are_found() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let store = server.provider.store();
        let (first, second, third) = (
            id_at(store, 1).await,
            id_at(store, 2).await,
            id_at(store, 3).await,
        );
        // Swap positions 2 and 3 (through -1: the positions are unique).
        for sql in [
            "UPDATE audit_events SET chain_seq = -1 WHERE chain_seq = 2",
            "UPDATE audit_events SET chain_seq = 2 WHERE chain_seq = 3",
            "UPDATE audit_events SET chain_seq = 3 WHERE chain_seq = -1",
        ] {
            tamper(store, sql).await;
        }
        let findings = verify(&server).await.findings;
        assert_eq!(
            findings,
            [
                Finding::Reordered {
                    seq: 2,
                    id: third,
                    after_id: second,
                    after_seq: 3
                },
                Finding::Reordered {
                    seq: 3,
                    id: second,
                    after_id: first,
                    after_seq: 1
                },
                Finding::Reordered {
                    seq: 4,
                    id: id_at(store, 4).await,
                    after_id: third,
                    after_seq: 2
                },
            ]
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_checkpoint_with_a_broken_signature_is_found() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let store = server.provider.store();
        let jws = store.audit_checkpoints(0, 5).await.unwrap()[0].jws.clone();
        // Another signature: the last character of the JWS flipped.
        let mut forged = jws.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        tamper(
            store,
            &format!("UPDATE audit_checkpoints SET jws = '{forged}' WHERE seq = 5"),
        )
        .await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::ForgedCheckpoint {
                seq: 5,
                why: Forgery::BadSignature
            }]
        );
        server.stop().await;
    }
}

/// A checkpoint signed by a key the intruder planted beside Tessera's is worthless: the
/// planted key does not open with the key-encryption key.
#[tokio::test]
async fn a_checkpoint_signed_by_a_planted_key_is_found() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let store = server.provider.store();
        // The intruder's own provider, with its own key-encryption key and signing keys.
        let intruder = TestServer::start(engine).await;
        record(intruder.provider.store(), 1, unix_now() - 10).await;
        intruder
            .provider
            .seal_audit_trail(unix_now(), Checkpoint::Now)
            .await
            .unwrap();
        let key = intruder
            .provider
            .store()
            .audit_keys()
            .await
            .unwrap()
            .remove(0);
        let head = store.audit_chain_head().await.unwrap().hash;
        let claims = json!({
            "iss": server.issuer, "seq": 5, "head": head, "iat": unix_now()
        });
        let jws = intruder
            .provider
            .keys()
            .sign_at(
                tessera_core::keys::Alg::Es256,
                tessera_core::audit::checkpoint::CHECKPOINT_TYP,
                &claims,
                unix_now(),
            )
            .unwrap();
        let sealed_hex: String = key.sealed_jwk.iter().map(|b| format!("{b:02x}")).collect();
        let blob = match engine {
            Engine::Postgres => format!("'\\x{sealed_hex}'::bytea"),
            Engine::Sqlite => format!("X'{sealed_hex}'"),
        };
        tamper(
            store,
            &format!(
                "INSERT INTO audit_keys (kid, public_jwk, sealed_jwk, created_at) \
                 VALUES ('{}', '{}', {blob}, 0)",
                key.kid, key.public_jwk
            ),
        )
        .await;
        tamper(
            store,
            &format!("UPDATE audit_checkpoints SET jws = '{jws}' WHERE seq = 5"),
        )
        .await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::ForgedCheckpoint {
                seq: 5,
                why: Forgery::Key(KeyProblem::NotAuthentic)
            }]
        );
        intruder.stop().await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_checkpoint_whose_columns_were_changed_is_found() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        tamper(
            server.provider.store(),
            "UPDATE audit_checkpoints SET head_hash = 'ff' WHERE seq = 5",
        )
        .await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::ForgedCheckpoint {
                seq: 5,
                why: Forgery::ColumnsDiffer
            }]
        );
        server.stop().await;
    }
}

/// An event that commits after higher ids were sealed is sealed on the next pass, at the
/// next position; the chain still verifies.
#[tokio::test]
async fn a_late_committing_lower_id_takes_the_next_position() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let store = server.provider.store();
        let now = unix_now();

        // Younger than the grace period: left for a later pass while an older one is sealed.
        record(store, 1, now).await;
        record(store, 1, now - 10).await;
        let events = store.recent_audit_events(2).await.unwrap();
        let (late, early) = (events[1].id, events[0].id);
        assert!(late < early);
        let first = server
            .provider
            .seal_audit_trail(now, Checkpoint::IfDue)
            .await
            .unwrap();
        assert_eq!((first.events, id_at(store, 1).await), (1, early));
        let second = server
            .provider
            .seal_audit_trail(now + 10, Checkpoint::Now)
            .await
            .unwrap();
        // The late one, with the events recorded as the server started.
        assert_eq!(id_at(store, second.head).await, late);

        // A transaction still open when a higher id commits and is sealed (PostgreSQL only:
        // SQLite has a single writer, so ids there commit in order).
        if engine == Engine::Postgres {
            let mut open = store.begin().await.unwrap();
            open.record(&AuditEvent {
                occurred_at: now - 10,
                event_type: "consent",
                ..AuditEvent::default()
            })
            .await
            .unwrap();
            record(store, 1, now - 10).await;
            let before = server
                .provider
                .seal_audit_trail(now + 10, Checkpoint::Now)
                .await
                .unwrap();
            assert_eq!(before.events, 1);
            open.commit().await.unwrap();
            let after = server
                .provider
                .seal_audit_trail(now + 10, Checkpoint::Now)
                .await
                .unwrap();
            assert_eq!((after.events, after.head), (1, before.head + 1));
            assert!(id_at(store, after.head).await < id_at(store, before.head).await);
        }

        assert_eq!(verify(&server).await.findings, []);
        server.stop().await;
    }
}

/// Two sealers at once (as two instances would run) never share a position.
#[tokio::test]
async fn concurrent_sealers_take_turns() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let now = unix_now();
        record(server.provider.store(), 40, now - 10).await;
        let (a, b) = tokio::join!(
            server.provider.seal_audit_trail(now, Checkpoint::Now),
            server.provider.seal_audit_trail(now, Checkpoint::Now),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.events + b.events, 40);
        let report = verify(&server).await;
        assert_eq!(report.findings, []);
        assert_eq!(report.events, 40);
        server.stop().await;
    }
}

/// Retention deletes up to a checkpoint older than the cutoff and keeps that checkpoint, so
/// what remains verifies; the purge is itself an audit event.
#[tokio::test]
async fn retention_purges_and_the_rest_still_verifies() {
    for engine in engines() {
        let server = TestServer::start_configured(engine, ServerOptions::default(), |s| {
            s.audit.retention_days = 1;
        })
        .await;
        let provider = &server.provider;
        let store = provider.store();
        let day = 24 * 3600;
        let start = unix_now();

        record(store, 3, start - 10).await;
        provider
            .seal_audit_trail(start, Checkpoint::Now)
            .await
            .unwrap();
        record(store, 2, start + 2 * day - 10).await;
        provider
            .seal_audit_trail(start + 2 * day, Checkpoint::Now)
            .await
            .unwrap();

        let removed = provider.purge_audit_trail(start + day + 100).await.unwrap();
        assert_eq!(removed, 3);
        // Positions 4 on: the two events recorded later, and those of the server's start.
        let head = store.audit_chain_head().await.unwrap().seq;
        let report = verify(&server).await;
        assert_eq!(report.findings, []);
        assert_eq!((report.first, report.last), (Some(4), Some(head)));
        assert_eq!(report.unsealed, 1, "the purge's own event");

        provider
            .seal_audit_trail(start + 2 * day + 10, Checkpoint::Now)
            .await
            .unwrap();
        let purge = store.sealed_audit_events(head, 1).await.unwrap().remove(0);
        assert_eq!(purge.event.event_type, "audit.purge");
        let detail: serde_json::Value = serde_json::from_str(&purge.event.detail).unwrap();
        assert_eq!(detail, json!({ "through_seq": 3, "events": 3 }));
        assert_eq!(verify(&server).await.findings, []);
        server.stop().await;
    }
}

/// Events that stay unsealed for minutes are unprotected: sealing stopped (a corrupted chain
/// head stops every seal pass) or no server ran. `verify` reports them rather than passing.
#[tokio::test]
async fn events_left_unsealed_for_minutes_are_a_finding() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let now = unix_now();
        record(server.provider.store(), 2, now - 600).await;
        let report = verify(&server).await;
        let unsealed: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| matches!(f, Finding::Unsealed { .. }))
            .collect();
        assert_eq!(
            unsealed,
            [&Finding::Unsealed {
                count: report.unsealed,
                since: now - 600
            }]
        );
        server.stop().await;
    }
}

/// A row planted at a position the sealer never assigns (the extremes of the column) is a
/// finding; it neither crashes `verify` nor blinds it to an edit elsewhere.
#[tokio::test]
async fn a_planted_extreme_position_is_found_without_a_crash() {
    let zeros = "0".repeat(64);
    for seq in [i64::MIN, i64::MAX] {
        for engine in engines() {
            let server = sealed_server(engine).await;
            let store = server.provider.store();
            let id = id_at(store, 3).await;
            tamper(
                store,
                &format!(
                    "INSERT INTO audit_events (occurred_at, event_type, outcome, detail, \
                     chain_seq, chain_prev, chain_hash) \
                     VALUES (0, 'x', 'success', '{{}}', {seq}, '{zeros}', '{zeros}')"
                ),
            )
            .await;
            tamper(
                store,
                &format!("UPDATE audit_events SET detail = '{{}}' WHERE id = {id}"),
            )
            .await;
            let report = verify(&server).await;
            assert!(
                report
                    .findings
                    .iter()
                    .any(|f| matches!(f, Finding::Edited { .. })),
                "{seq}: {:?}",
                report.findings
            );
            if seq == i64::MIN {
                assert!(report
                    .findings
                    .contains(&Finding::ImpossiblePosition { seq }));
            }
            server.stop().await;
        }
    }
}

/// Whoever deletes every checkpoint and recomputes every hash leaves a chain that links
/// perfectly; what gives it away is that sealed events have waited far longer for a
/// checkpoint than the sealer ever lets them.
#[tokio::test]
async fn deleting_every_checkpoint_and_rehashing_is_found() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let store = server.provider.store();
        let now = unix_now();
        record(store, 5, now - 1000).await;
        server
            .provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();
        let head = store.audit_chain_head().await.unwrap().seq;
        assert_eq!(verify(&server).await.findings, []);

        tamper(store, "DELETE FROM audit_checkpoints").await;
        rewrite(store, 1, head).await;
        let first = store.sealed_audit_events(0, 1).await.unwrap().remove(0);
        assert_eq!(
            verify(&server).await.findings,
            [Finding::CheckpointOverdue {
                from: 1,
                to: head,
                since: first.event.occurred_at
            }]
        );
        server.stop().await;
    }
}

/// Sealed events past the last checkpoint are owed the next one from the later of that
/// checkpoint and their own time: past the grace, it is a finding; an idle chain, with no
/// event past its last checkpoint, owes nothing however old that checkpoint is. `verify`
/// runs at chosen times here, as it would later.
#[tokio::test]
async fn a_checkpoint_is_owed_only_for_events_past_the_last() {
    let later = |now: i64| now + CHECKPOINT_GRACE + 100;
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let provider = &server.provider;
        let store = provider.store();
        let now = unix_now();
        // With the events recorded as the server started.
        record(store, 3, now - 10).await;
        provider
            .seal_audit_trail(now + 5, Checkpoint::Now)
            .await
            .unwrap();
        assert_eq!(verify_at(&server, later(now)).await.findings, [], "idle");

        // Sealed 20 seconds after the checkpoint: the next is not due for another 40.
        record(store, 2, now + 20).await;
        let sealed = provider
            .seal_audit_trail(now + 25, Checkpoint::IfDue)
            .await
            .unwrap();
        assert_eq!((sealed.events, sealed.checkpoints), (2, 0));
        let owed_since = now + 20;
        let just_in_grace = owed_since + CHECKPOINT_GRACE;
        assert_eq!(verify_at(&server, just_in_grace).await.findings, []);
        assert_eq!(
            verify_at(&server, just_in_grace + 1).await.findings,
            [Finding::CheckpointOverdue {
                from: sealed.head - 1,
                to: sealed.head,
                since: owed_since
            }]
        );

        provider
            .seal_audit_trail(now + 80, Checkpoint::IfDue)
            .await
            .unwrap();
        assert_eq!(verify_at(&server, later(now)).await.findings, []);
        server.stop().await;
    }
}

/// Deleting the checkpoints between the first event and the last checkpoint breaks no
/// hash; the stretch without one is longer than the sealer ever leaves.
#[tokio::test]
async fn deleting_the_checkpoints_within_a_long_chain_is_found() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let store = server.provider.store();
        let now = unix_now();
        record(store, 1600, now - 10).await;
        server
            .provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();
        let head = store.audit_chain_head().await.unwrap().seq;
        assert_eq!(verify(&server).await.findings, []);

        tamper(
            store,
            "DELETE FROM audit_checkpoints WHERE seq < (SELECT MAX(seq) FROM audit_checkpoints)",
        )
        .await;
        let missing = [Finding::CheckpointsMissing {
            after: 0,
            through: head,
        }];
        assert_eq!(verify(&server).await.findings, missing);

        // The last one too: the whole chain is one stretch without a checkpoint.
        tamper(store, "DELETE FROM audit_checkpoints").await;
        assert_eq!(verify(&server).await.findings, missing);
        server.stop().await;
    }
}

/// A running server never signs over a chain rewritten under it: after the checkpoints are
/// deleted and the events rehashed, it refuses to seal (and so to sign), and `verify` goes on
/// reporting the rewrite instead of seeing a fresh checkpoint over it (hostile pass, HIGH).
#[tokio::test]
async fn a_server_refuses_to_sign_over_a_chain_rewritten_under_it() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let store = server.provider.store();
        let now = unix_now();
        record(store, 5, now - 1000).await;
        server
            .provider
            .seal_audit_trail(now, Checkpoint::Now)
            .await
            .unwrap();

        tamper(store, "DELETE FROM audit_checkpoints").await;
        rewrite(store, 1, 5).await;
        record(store, 1, now - 10).await;
        let refused = server.provider.seal_audit_trail(now, Checkpoint::Now).await;
        assert!(
            matches!(refused, Err(ProviderError::AuditChainRewritten(5))),
            "{refused:?}"
        );
        assert_eq!(store.audit_chain_head().await.unwrap().seq, 5);
        assert!(!verify(&server).await.findings.is_empty());
        server.stop().await;
    }
}

/// The head moved back by hand, with the events past it left in place: `verify` names the
/// gap between the head and the last sealed event, and the server that sealed them refuses
/// to seal on.
#[tokio::test]
async fn a_head_moved_back_is_found_and_never_sealed_over() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let store = server.provider.store();
        tamper(
            store,
            "UPDATE audit_chain SET head_seq = 3, head_hash = \
             (SELECT chain_hash FROM audit_events WHERE chain_seq = 3) WHERE id = 1",
        )
        .await;
        assert_eq!(
            verify(&server).await.findings,
            [Finding::PastHead { head: 3, last: 5 }]
        );

        let now = unix_now();
        record(store, 1, now - 10).await;
        let refused = server.provider.seal_audit_trail(now, Checkpoint::Now).await;
        assert!(
            matches!(refused, Err(ProviderError::AuditChainRewritten(_))),
            "{refused:?}"
        );
        assert_eq!(store.audit_chain_head().await.unwrap().seq, 3);
        server.stop().await;
    }
}

/// A sealer that remembers nothing (`tessera audit seal`, a server just started) still
/// refuses to seal when a sealed event lies past the head: new events would take the
/// positions of old ones, and its checkpoint would vouch for the rewrite.
#[tokio::test]
async fn a_fresh_sealer_refuses_a_chain_with_events_past_its_head() {
    let zeros = "0".repeat(64);
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let store = server.provider.store();
        tamper(
            store,
            &format!(
                "INSERT INTO audit_events (occurred_at, event_type, outcome, detail, \
                 chain_seq, chain_prev, chain_hash) \
                 VALUES (0, 'x', 'success', '{{}}', 1, '{zeros}', '{zeros}')"
            ),
        )
        .await;
        let now = unix_now();
        record(store, 1, now - 10).await;

        let refused = server.provider.seal_audit_trail(now, Checkpoint::Now).await;
        assert!(
            matches!(refused, Err(ProviderError::AuditChainRewritten(0))),
            "{refused:?}"
        );
        assert_eq!(store.audit_chain_head().await.unwrap().seq, 0);
        server.stop().await;
    }
}

/// The newest events deleted together with the checkpoint that vouched for them: the head
/// still names the last position sealed.
#[tokio::test]
async fn the_newest_events_deleted_with_their_checkpoint_are_found_by_the_head() {
    for engine in engines() {
        let server = sealed_server(engine).await;
        let store = server.provider.store();
        tamper(store, "DELETE FROM audit_checkpoints").await;
        tamper(store, "DELETE FROM audit_events WHERE chain_seq >= 4").await;
        let findings = verify(&server).await.findings;
        assert!(
            findings.contains(&Finding::Deleted { from: 4, to: 5 }),
            "{findings:?}"
        );
        server.stop().await;
    }
}
