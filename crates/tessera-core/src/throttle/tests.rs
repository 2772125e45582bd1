#![allow(clippy::unwrap_used, clippy::panic)]

use tessera_store::testing::on_each_engine;
use tessera_store::NewUser;

use super::*;

/// A fixed clock: every test decides when "now" is.
const NOW: i64 = 1_800_000_000;
const HERE: Option<&str> = Some("192.0.2.10");
const THERE: Option<&str> = Some("198.51.100.20");

fn defaults() -> ThrottleSettings {
    ThrottleSettings::default()
}

/// One attempt at `subject` from `source` at `now`: the charge, or the refusal.
async fn attempt(
    store: &Store,
    subject: Subject<'_>,
    source: Option<&str>,
    now: i64,
) -> Result<Charge, Throttled> {
    take_attempt(store, &defaults(), subject, source, now)
        .await
        .unwrap()
}

/// `n` attempts at `subject` that fail (their charges stand), all let through.
async fn fail(store: &Store, subject: Subject<'_>, source: Option<&str>, n: usize, now: i64) {
    for i in 0..n {
        if let Err(throttled) = attempt(store, subject, source, now).await {
            panic!("failure {i} was refused: {throttled:?}");
        }
    }
}

async fn succeed(store: &Store, charge: Charge) {
    let mut tx = store.begin().await.unwrap();
    charge.succeeded(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// The defaults as documented: five free failures, then 2 s doubling to 15 minutes.
#[test]
fn the_delay_doubles_after_the_free_failures_up_to_the_cap() {
    let settings = defaults();
    let delays: Vec<i64> = (0..=15).map(|n| settings.delay_after(n, 5)).collect();
    assert_eq!(
        delays,
        [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    );
    assert_eq!(settings.delay_after(i64::MAX, 5), 900);
    assert_eq!(settings.delay_after(20, 20), 2);
}

#[test]
fn a_counter_quiet_for_the_forget_period_counts_as_none() {
    let settings = defaults();
    let seen = Some(ThrottleCounter {
        failures: 50,
        last_at: NOW,
    });
    assert_eq!(settings.judge(seen, 5, NOW + 899), Verdict::Wait(1));
    assert_eq!(
        settings.judge(seen, 5, NOW + 86_400),
        Verdict::Charge(ThrottleCounter {
            failures: 1,
            last_at: NOW + 86_400
        })
    );
}

/// An IPv6 host commonly holds a whole /64, so the /64 is what is counted; an IPv4-mapped
/// address is its IPv4 address.
#[test]
fn an_ipv6_address_counts_by_its_64_prefix() {
    let subject = |text: &str| address_subject(text.parse().unwrap());
    assert_eq!(subject("192.0.2.7"), "192.0.2.7");
    assert_eq!(subject("::ffff:192.0.2.7"), "192.0.2.7");
    assert_eq!(subject("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    assert_eq!(subject("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
    assert_eq!(subject("2001:db8:1:3::1"), "2001:db8:1:3::/64");
}

#[test]
fn the_message_says_when_to_try_again() {
    let throttled = |retry_after| Throttled {
        retry_after,
        counter: "password",
    };
    assert_eq!(
        throttled(4).message(),
        "Too many failed attempts. Try again in 4 seconds."
    );
    assert_eq!(
        throttled(1).message(),
        "Too many failed attempts. Try again in 1 second."
    );
    let error = throttled(4).oauth_error();
    assert_eq!(error.code, ErrorCode::InvalidClient);
    assert_eq!(error.retry_after, Some(4));
}

#[tokio::test]
async fn delays_grow_with_each_failure_and_expire() {
    on_each_engine(|store| async move {
        let alice = Subject::Password("Alice");
        fail(&store, alice, HERE, 5, NOW).await;

        // The sixth waits 2 s; the username is normalised, so "ALICE" is the same account.
        let refused = attempt(&store, Subject::Password("ALICE"), HERE, NOW + 1).await;
        assert_eq!(
            refused.unwrap_err(),
            Throttled {
                retry_after: 1,
                counter: "password"
            }
        );

        let mut now = NOW;
        for delay in [2, 4, 8, 16] {
            let early = attempt(&store, alice, HERE, now + delay - 1).await;
            assert_eq!(early.unwrap_err().retry_after, 1, "delay {delay}");
            now += delay;
            assert!(attempt(&store, alice, HERE, now).await.is_ok(), "{delay}");
        }

        // A day without failures forgets them all.
        let later = now + 86_400;
        fail(&store, alice, HERE, 5, later).await;
        assert!(attempt(&store, alice, HERE, later).await.is_err());
    })
    .await;
}

/// The owner's right password clears the account's counter; the address gets back only
/// the successful attempt's charge.
#[tokio::test]
async fn a_success_resets_the_account_and_refunds_the_address() {
    on_each_engine(|store| async move {
        let alice = Subject::Password("alice");
        fail(&store, alice, HERE, 4, NOW).await;
        let right = attempt(&store, alice, HERE, NOW).await.unwrap();
        succeed(&store, right).await;

        fail(&store, alice, HERE, 5, NOW).await;
        assert!(attempt(&store, alice, HERE, NOW).await.is_err());

        // The address saw 9 failures and one success: 11 more fail freely, then it waits.
        let bob = Subject::Password("bob");
        let carol = Subject::Password("carol");
        let dave = Subject::Password("dave");
        fail(&store, bob, HERE, 5, NOW).await;
        fail(&store, carol, HERE, 5, NOW).await;
        fail(&store, dave, HERE, 1, NOW).await;
        let refused = attempt(&store, dave, HERE, NOW).await.unwrap_err();
        assert_eq!(refused.counter, "address");
    })
    .await;
}

/// One address guessing at many accounts meets the address's delay, though no account has
/// failed more than once; another address is unaffected, and so is the address's own
/// account counter (its charge was given back).
#[tokio::test]
async fn an_address_is_counted_across_accounts() {
    on_each_engine(|store| async move {
        for n in 0..20 {
            let name = format!("user{n}");
            fail(&store, Subject::Password(&name), HERE, 1, NOW).await;
        }
        let refused = attempt(&store, Subject::Password("user20"), HERE, NOW).await;
        assert_eq!(
            refused.unwrap_err(),
            Throttled {
                retry_after: 2,
                counter: "address"
            }
        );
        let elsewhere = attempt(&store, Subject::Password("user20"), THERE, NOW).await;
        assert!(elsewhere.is_ok());
        fail(&store, Subject::Password("user20"), THERE, 4, NOW).await;
        assert!(attempt(&store, Subject::Password("user20"), THERE, NOW)
            .await
            .is_err());

        // Codes and client secrets from the address meet the same delay.
        let code = attempt(&store, Subject::Factor("u1"), HERE, NOW).await;
        assert_eq!(code.unwrap_err().counter, "address");
        let client = attempt(&store, Subject::Client("c1"), HERE, NOW).await;
        assert_eq!(client.unwrap_err().counter, "address");
    })
    .await;
}

#[tokio::test]
async fn ipv6_addresses_in_one_64_share_a_counter() {
    on_each_engine(|store| async move {
        for n in 0..20 {
            let name = format!("user{n}");
            let source = format!("2001:db8:5:6::{n:x}");
            fail(&store, Subject::Password(&name), Some(&source), 1, NOW).await;
        }
        let same_64 = Some("2001:db8:5:6:ffff:ffff:ffff:ffff");
        let refused = attempt(&store, Subject::Password("x"), same_64, NOW).await;
        assert_eq!(refused.unwrap_err().counter, "address");
        let next_64 = Some("2001:db8:5:7::1");
        assert!(attempt(&store, Subject::Password("x"), next_64, NOW)
            .await
            .is_ok());
    })
    .await;
}

/// A client's secret or assertion has a counter of its own, 20 failures free by default;
/// its right secret clears it.
#[tokio::test]
async fn client_authentications_are_counted_per_client() {
    on_each_engine(|store| async move {
        let client = Subject::Client("client-a");
        fail(&store, client, None, 20, NOW).await;
        let refused = attempt(&store, client, None, NOW).await.unwrap_err();
        assert_eq!(
            refused,
            Throttled {
                retry_after: 2,
                counter: "client"
            }
        );
        assert!(attempt(&store, Subject::Client("client-b"), None, NOW)
            .await
            .is_ok());

        let right = attempt(&store, client, None, NOW + 2).await.unwrap();
        succeed(&store, right).await;
        fail(&store, client, None, 20, NOW + 2).await;
    })
    .await;
}

/// Second-factor codes are counted per account, apart from the password: a right password
/// (which an attacker guessing codes already has) does not clear them.
#[tokio::test]
async fn codes_have_their_own_counter() {
    on_each_engine(|store| async move {
        fail(&store, Subject::Factor("u1"), None, 5, NOW).await;
        let password = attempt(&store, Subject::Password("alice"), None, NOW).await;
        succeed(&store, password.unwrap()).await;
        let refused = attempt(&store, Subject::Factor("u1"), None, NOW).await;
        assert_eq!(refused.unwrap_err().counter, "factor");
    })
    .await;
}

#[tokio::test]
async fn an_administrator_clears_an_accounts_counters_but_not_the_address() {
    on_each_engine(|store| async move {
        let mut tx = store.begin().await.unwrap();
        let user = NewUser {
            id: "u1",
            username: "Alice",
            username_key: "alice",
            email: None,
            display_name: None,
            password_hash: None,
        };
        tx.insert_user(&user, NOW).await.unwrap();
        tx.commit().await.unwrap();
        fail(&store, Subject::Password("alice"), HERE, 5, NOW).await;
        fail(&store, Subject::Factor("u1"), None, 5, NOW).await;
        for guessed in ["bob", "carol", "dave"] {
            fail(&store, Subject::Password(guessed), HERE, 5, NOW).await;
        }

        assert_eq!(unthrottle_user(&store, "ALICE", NOW).await.unwrap(), 2);
        assert!(attempt(&store, Subject::Password("alice"), None, NOW)
            .await
            .is_ok());
        assert!(attempt(&store, Subject::Factor("u1"), None, NOW)
            .await
            .is_ok());
        let from_here = attempt(&store, Subject::Password("alice"), HERE, NOW).await;
        assert_eq!(from_here.unwrap_err().counter, "address");

        let events = store.recent_audit_events(1).await.unwrap();
        assert_eq!(events[0].event_type, "user.unthrottle");
        assert_eq!(events[0].user_id.as_deref(), Some("u1"));
        assert!(matches!(
            unthrottle_user(&store, "nobody", NOW).await,
            Err(AccountError::NoSuchUser)
        ));
    })
    .await;
}

/// The race: twenty attempts at once, at one instant, get exactly the five free charges;
/// the other fifteen are refused before any secret could be checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_attempts_cannot_race_past_the_counter() {
    on_each_engine(|store| async move {
        let attempts = (0..20).map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                attempt(&store, Subject::Password("alice"), HERE, NOW)
                    .await
                    .is_ok()
            })
        });
        let mut charged = 0;
        for handle in attempts.collect::<Vec<_>>() {
            if handle.await.unwrap() {
                charged += 1;
            }
        }
        assert_eq!(charged, 5);
    })
    .await;
}

/// Risk scoring's `recent_failures` reads the counters as an attempt found them, before its
/// own charge: the account's or the address's failures, whichever are more, while the last
/// of them is within the window.
#[tokio::test]
async fn a_charge_remembers_the_failures_it_found() {
    on_each_engine(|store| async move {
        fail(&store, Subject::Password("alice"), HERE, 2, NOW).await;
        fail(&store, Subject::Password("bob"), HERE, 2, NOW).await;

        let alice = attempt(&store, Subject::Password("alice"), HERE, NOW)
            .await
            .unwrap();
        // Alice's counter held 2, the address's 4.
        assert_eq!(alice.prior().recent_failures(3600, NOW), 4);
        // From another address, Alice's counter alone: her 2 failures and the attempt above,
        // still charged.
        let elsewhere = attempt(&store, Subject::Password("alice"), THERE, NOW)
            .await
            .unwrap();
        assert_eq!(elsewhere.prior().recent_failures(3600, NOW), 3);
        // Once the last failure is an hour old, they are not recent any more.
        assert_eq!(alice.prior().recent_failures(3600, NOW + 3600), 0);
    })
    .await;
}
