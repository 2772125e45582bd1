//! Revoking a refresh-token family while a thief refreshes it in a loop (RFC 6749 §10.4,
//! RFC 7009 §2.1: revoking a refresh token revokes its family). On PostgreSQL, at READ
//! COMMITTED, a rotation committing during the revocation inserted a token the revocation's
//! statement could not see, and the family lived on through it (hostile pass, HIGH).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tessera_e2e::devices::{app, app_login};
use tessera_e2e::lifecycle::{assert_tokens_json, text};
use tessera_e2e::{engines, Browser, TestServer};

/// Rounds per engine: each one lost the race about half the time before the fix.
const ROUNDS: usize = 8;

#[tokio::test]
async fn a_family_revoked_while_it_is_being_refreshed_stays_revoked() {
    for engine in engines() {
        let server = TestServer::start(engine).await;
        server.create_user("dave").await;
        let client = app(&server).await;
        for round in 0..ROUNDS {
            let login = app_login(&server, &Browser::new(), &client, "dave").await;
            let latest = Mutex::new(login.refresh_token.clone());
            let stop = AtomicBool::new(false);

            let thief = async {
                while !stop.load(Ordering::SeqCst) {
                    let token = latest.lock().unwrap().clone();
                    let response = server.refresh(&client, &token, None).await;
                    if response.status() != 200 {
                        break;
                    }
                    let tokens = assert_tokens_json(response).await;
                    *latest.lock().unwrap() = text(&tokens, "refresh_token").to_string();
                }
            };
            let owner = async {
                tokio::time::sleep(Duration::from_millis(40)).await;
                let response = server.revoke(&client, &login.refresh_token).await;
                assert_eq!(response.status(), 200);
                stop.store(true, Ordering::SeqCst);
            };
            tokio::join!(thief, owner);

            let last = latest.lock().unwrap().clone();
            let response = server.refresh(&client, &last, None).await;
            assert_eq!(response.status(), 400, "round {round}: the family lived on");
            let introspected = server.introspect(&client, &last).await;
            assert_eq!(introspected["active"], false, "round {round}");
        }
        server.stop().await;
    }
}
