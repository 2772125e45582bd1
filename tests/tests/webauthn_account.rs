//! The account page's calls about keys (`tessera_core::webauthn`), which the page will make
//! once it exists: registration for a logged-in person, list, rename, remove.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tessera_core::accounts;
use tessera_core::webauthn::{KeyNameRefusal, KeyRefusal};
use tessera_core::{unix_now, RequestContext};
use tessera_e2e::webauthn::{json, SoftKey};
use tessera_e2e::{engines, TestServer};

/// Whether an audit event of `event_type` succeeded.
async fn succeeded(server: &TestServer, event_type: &str) -> bool {
    let all = server.provider.store().recent_audit_events(200).await;
    all.unwrap()
        .iter()
        .any(|e| e.event_type == event_type && e.outcome == "success")
}

/// The account page's calls: a registration for a logged-in person, kept under the caller's
/// key and answered once; the person's keys excluded from the next one; list, rename,
/// remove, only of their own keys; an administrator's reset removes them all.
#[tokio::test]
async fn the_account_api_registers_lists_renames_and_removes_keys() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        let alice = server.create_user("alice").await;
        let bob = server.create_user("bob").await;
        let provider = &server.provider;
        let ctx = RequestContext::default();
        let now = unix_now();

        let options = provider
            .start_key_registration(&alice, b"alice's session", now)
            .await
            .unwrap()
            .unwrap();
        let mut laptop = SoftKey::new(&server);
        let credential = laptop.register(&options);
        let elsewhere = provider
            .finish_key_registration(
                &alice,
                b"another session",
                &credential,
                "",
                b"kept",
                now,
                &ctx,
            )
            .await
            .unwrap();
        assert_eq!(elsewhere.err(), Some(KeyRefusal::NoCeremony));
        // The refusal above consumed nothing: the ceremony is keyed by its own session.
        let first = provider
            .finish_key_registration(
                &alice,
                b"alice's session",
                &credential,
                " Laptop ",
                b"kept",
                now,
                &ctx,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.key.name, "Laptop");
        assert_eq!(first.key.id, URL_SAFE_NO_PAD.encode(laptop.credential_id()));
        assert_eq!(first.recovery_codes.len(), 10, "the first factor");
        let again = provider
            .finish_key_registration(
                &alice,
                b"alice's session",
                &credential,
                "",
                b"kept",
                now,
                &ctx,
            )
            .await
            .unwrap();
        assert_eq!(again.err(), Some(KeyRefusal::NoCeremony), "answered once");

        // A minute later: keys are listed oldest first.
        let later = now + 60;
        let options = provider
            .start_key_registration(&alice, b"alice's session", later)
            .await
            .unwrap()
            .unwrap();
        let excluded = &json(&options)["publicKey"]["excludeCredentials"];
        assert_eq!(excluded[0]["id"], first.key.id);
        let mut phone = SoftKey::new(&server);
        let credential = phone.register(&options);
        let second = provider
            .finish_key_registration(
                &alice,
                b"alice's session",
                &credential,
                "",
                b"kept",
                later,
                &ctx,
            )
            .await
            .unwrap()
            .unwrap();
        assert!(second.recovery_codes.is_empty(), "not the first factor");

        let listed = provider.list_keys(&alice).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["Laptop", "Security key"]);

        let renamed = provider
            .rename_key(&alice, &second.key.id, "Phone", now, &ctx)
            .await
            .unwrap();
        assert_eq!(renamed, Ok(()));
        let refused = provider
            .rename_key(&alice, &second.key.id, "  ", now, &ctx)
            .await
            .unwrap();
        assert_eq!(refused, Err(KeyRefusal::Name(KeyNameRefusal::Empty)));
        let not_bobs = provider
            .rename_key(&bob, &second.key.id, "Mine", now, &ctx)
            .await
            .unwrap();
        assert_eq!(not_bobs, Err(KeyRefusal::NoSuchKey));
        let not_bobs = provider
            .remove_key(&bob, &first.key.id, now, &ctx)
            .await
            .unwrap();
        assert_eq!(not_bobs, Err(KeyRefusal::NoSuchKey));

        let removed = provider
            .remove_key(&alice, &first.key.id, now, &ctx)
            .await
            .unwrap();
        assert_eq!(removed, Ok(()));
        let listed = provider.list_keys(&alice).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["Phone"]);
        for event_type in [
            "factor.webauthn_register",
            "factor.webauthn_rename",
            "factor.webauthn_remove",
        ] {
            assert!(succeeded(&server, event_type).await, "{event_type}");
        }

        accounts::reset_factors(provider.store(), "alice", now)
            .await
            .unwrap();
        assert!(provider.list_keys(&alice).await.unwrap().is_empty());
        server.stop().await;
    }
}
