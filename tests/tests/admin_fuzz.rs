//! The admin API under a property-based fuzzer (issue 5, "Tests"): schemathesis reads the
//! OpenAPI description the server serves, generates requests from it (valid ones, and ones
//! that break the schema on purpose), sends them with a token holding every admin scope, and
//! checks each answer: never a 5xx, and status, media type and body as the description
//! declares them. Every operation in the description is covered, including ones added later.
//!
//! `bash tests/setup.sh` installs schemathesis, pinned in `tests/fuzz/requirements.txt`, into
//! `tests/.venv`. Without it this test fails with a message naming that script: a fuzzer
//! that skipped itself quietly would let CI pass without ever fuzzing.
//!
//! The fuzzer's own access must survive the run, or every later request would get a 401
//! that the description allows and the run would prove nothing. Operations whose targets
//! are named in the path (delete a client, disable a user) get ids the fuzzer makes up, so
//! they never hit the fuzzer's own client; the stateful phase, which could carry a real id
//! from one answer (`/me`'s `client_id`) into such a path, is not run. The test checks
//! after the run that the token still works.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use tessera_e2e::admin::ALL_ADMIN_SCOPES;
use tessera_e2e::{engines, TestServer};

const SETUP: &str = "run `bash tests/setup.sh`, which installs schemathesis (pinned in \
                     tests/fuzz/requirements.txt) into tests/.venv";

/// Test cases per operation and phase: enough to find what breaks on odd input, few enough
/// that a run over the whole API on both engines stays within about three minutes on two
/// cores (five operations took 25 s per engine at 50).
const MAX_EXAMPLES: &str = "30";

/// A run that takes longer has hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// What is checked: no 5xx, and every answer as the description declares it.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

/// Generated from the schema (examples, edge values of each constraint, random data); the
/// stateful phase is left out, see the module comment.
const PHASES: &str = "examples,coverage,fuzzing";

fn tests_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schemathesis of tests/.venv, checked to be the pinned version.
fn schemathesis() -> PathBuf {
    let program = tests_dir().join(".venv/bin/schemathesis");
    assert!(
        program.is_file(),
        "{} is missing: {SETUP}",
        program.display()
    );

    let requirements = std::fs::read_to_string(tests_dir().join("fuzz/requirements.txt")).unwrap();
    let pinned = requirements
        .lines()
        .find_map(|line| line.trim().strip_prefix("schemathesis=="))
        .expect("tests/fuzz/requirements.txt pins schemathesis");
    let output = std::process::Command::new(&program)
        .arg("--version")
        .output()
        .unwrap_or_else(|err| panic!("schemathesis could not be run ({err}): {SETUP}"));
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(
        version.trim().ends_with(&format!("version {pinned}")),
        "schemathesis {version:?} is not the pinned {pinned}: {SETUP}"
    );
    program
}

#[tokio::test]
async fn the_admin_api_answers_as_its_description_says_under_fuzzing() {
    let program = schemathesis();
    for engine in engines() {
        let server = TestServer::start(engine).await;
        let (_, token) = server.service_token(ALL_ADMIN_SCOPES).await;

        // Hypothesis keeps its example database in the working directory: a fresh one per
        // run, so no run depends on an earlier one.
        let workdir = std::env::temp_dir().join(format!("tessera-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&workdir).unwrap();
        let authorization = format!("Authorization: Bearer {token}");
        let run = tokio::process::Command::new(&program)
            .current_dir(&workdir)
            .args(["run", &server.url("/admin/v1/openapi.json")])
            .args(["--checks", CHECKS, "--phases", PHASES])
            .args(["--max-examples", MAX_EXAMPLES, "--workers", "1"])
            .args(["--header", &authorization])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(RUN_TIMEOUT, run)
            .await
            .unwrap_or_else(|_| panic!("schemathesis ran longer than {RUN_TIMEOUT:?}"))
            .unwrap_or_else(|err| panic!("schemathesis could not be run ({err}): {SETUP}"));
        let _ = std::fs::remove_dir_all(&workdir);

        let report = format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "schemathesis found problems on {engine:?}:\n{report}"
        );
        println!("{report}");

        let me = server.admin(Method::GET, Some(&token), "/me", None).await;
        if me.status() != 200 {
            // What changed last is what most likely ended the access.
            let events = server
                .provider
                .store()
                .recent_audit_events(5000)
                .await
                .unwrap();
            let changes: Vec<String> = events
                .iter()
                .filter(|e| e.outcome == "success" && !e.event_type.ends_with(".read"))
                .take(20)
                .map(|e| format!("{} {} {}", e.id, e.event_type, e.detail))
                .collect();
            panic!(
                "the fuzzer lost its own access on {engine:?}; the last successful changes:\n{}",
                changes.join("\n")
            );
        }
        server.stop().await;
    }
}
