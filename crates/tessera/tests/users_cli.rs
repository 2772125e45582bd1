//! `tessera user` as an operator runs it, through the built binary on an embedded database
//! in a directory of its own: the password rules apply, factors can be reset, and delays
//! cleared.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A working directory for one test, removed on drop.
struct Workdir(PathBuf);

impl Workdir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("tessera-cli-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Runs `tessera args`, with `stdin` as its standard input.
    fn tessera(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        for (name, _) in std::env::vars() {
            if name.starts_with("TESSERA_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .args(args)
            .current_dir(&self.0)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(output: &Output) -> String {
    let mut all = String::from_utf8_lossy(&output.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&output.stderr));
    all
}

/// NIST SP 800-63B §3.1.1.2 in `tessera user create`: a common password is refused, with a
/// message that does not repeat it; a long uncommon one is accepted.
#[test]
fn user_create_refuses_common_passwords_and_reset_factors_runs() {
    let dir = Workdir::new("users");
    let create = ["user", "create", "--username", "alice", "--password-stdin"];

    let refused = dir.tessera(&create, "1QAZ2WSX3EDC\n");
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(message.contains("too common"), "{message}");
    assert!(
        !message.to_lowercase().contains("1qaz2wsx3edc"),
        "{message}"
    );

    let short = dir.tessera(&create, "kq3#vZ!\n");
    assert!(!short.status.success());
    assert!(text(&short).contains("at least 8 characters"));

    let created = dir.tessera(&create, "correct horse battery staple\n");
    assert!(created.status.success(), "{}", text(&created));

    let reset = dir.tessera(&["user", "reset-factors", "alice"], "");
    assert!(reset.status.success(), "{}", text(&reset));
    assert!(text(&reset).contains("second factors removed"));
}

/// `tessera user unthrottle` clears a user's delays (the core's tests show which counters);
/// an unknown user is an error that names the problem.
#[test]
fn user_unthrottle_clears_a_known_user_and_refuses_an_unknown_one() {
    let dir = Workdir::new("unthrottle");
    let create = ["user", "create", "--username", "alice", "--password-stdin"];
    let created = dir.tessera(&create, "correct horse battery staple\n");
    assert!(created.status.success(), "{}", text(&created));

    let cleared = dir.tessera(&["user", "unthrottle", "ALICE"], "");
    assert!(cleared.status.success(), "{}", text(&cleared));
    assert!(text(&cleared).contains("delays cleared; removed 0 counters"));

    let unknown = dir.tessera(&["user", "unthrottle", "bob"], "");
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("no such user"),
        "{}",
        text(&unknown)
    );
}

/// RFC 6749 §1.5: refresh tokens come with an authorization grant. A client registered for
/// `refresh_token` alone could never get one, so the registration is refused and says why.
#[test]
fn client_registered_for_refresh_alone_is_refused() {
    let dir = Workdir::new("refresh-alone");
    let refused = dir.tessera(
        &[
            "client",
            "create",
            "--name",
            "App",
            "--redirect-uri",
            "http://127.0.0.1:3000/cb",
            "--grant-type",
            "refresh_token",
        ],
        "",
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("authorization_code"),
        "{}",
        text(&refused)
    );

    let accepted = dir.tessera(
        &[
            "client",
            "create",
            "--name",
            "App",
            "--redirect-uri",
            "http://127.0.0.1:3000/cb",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
        ],
        "",
    );
    assert!(accepted.status.success(), "{}", text(&accepted));
}
