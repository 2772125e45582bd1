//! `tessera keys` as an operator runs it: on an embedded database in a directory of its
//! own, through the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

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

    /// Runs the binary here, with no `TESSERA_*` setting but `env`, whatever its outcome.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        for (name, _) in std::env::vars() {
            if name.starts_with("TESSERA_") {
                command.env_remove(name);
            }
        }
        command
            .args(args)
            .current_dir(&self.0)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// Runs the binary here and expects it to succeed.
    fn tessera(&self, args: &[&str]) -> Output {
        let output = self.run(args, &[]);
        assert!(
            output.status.success(),
            "tessera {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
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

#[test]
fn rotate_publishes_ahead_and_list_shows_states_without_key_material() {
    let dir = Workdir::new("rotate");
    dir.tessera(&["migrate"]);

    // An empty table: the first key of each algorithm signs at once.
    let first = text(&dir.tessera(&["keys", "rotate"]));
    assert!(first.contains("RS256: new key"), "{first}");
    assert!(first.contains("ES256: new key"), "{first}");

    let second = text(&dir.tessera(&["keys", "rotate", "--alg", "ES256"]));
    assert!(second.contains("ES256: new key"), "{second}");
    assert!(!second.contains("RS256"), "{second}");

    let listed = text(&dir.tessera(&["keys", "list"]));
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{listed}");
    let status = |alg: &str, status: &str| {
        rows.iter()
            .filter(|r| r.split_whitespace().nth(1) == Some(alg))
            .filter(|r| r.split_whitespace().nth(2) == Some(status))
            .count()
    };
    assert_eq!(status("RS256", "active"), 1, "{listed}");
    assert_eq!(status("ES256", "active"), 1, "{listed}");
    assert_eq!(status("ES256", "upcoming"), 1, "{listed}");

    // Public facts only: no JWK members, private or public, and no key bytes.
    let kek = std::fs::read_to_string(dir.0.join("data/kek")).unwrap();
    for output in [&first, &second, &listed] {
        assert!(!output.contains(kek.trim()), "the KEK was printed");
        for marker in ["\"d\"", "\"n\"", "\"x\"", "PRIVATE", "kty"] {
            assert!(!output.contains(marker), "{marker} in {output}");
        }
    }
}

#[test]
fn immediate_activation_is_named_as_a_danger_and_warns() {
    let dir = Workdir::new("immediate");
    dir.tessera(&["keys", "rotate"]);
    let output = text(&dir.tessera(&[
        "keys",
        "rotate",
        "--alg",
        "RS256",
        "--danger-activate-immediately",
    ]));
    assert!(
        output.contains("warning: the new keys sign at once"),
        "{output}"
    );

    let listed = text(&dir.tessera(&["keys", "list"]));
    let rs256: Vec<&str> = listed.lines().filter(|l| l.contains("RS256")).collect();
    assert_eq!(rs256.len(), 2, "{listed}");
    assert!(rs256.iter().any(|r| r.contains("retired")), "{listed}");
    assert!(rs256.iter().any(|r| r.contains("active")), "{listed}");
}

/// A key-encryption key other than the one the stored keys were sealed with is refused
/// before anything is written: a key sealed with it could never be opened by the instances
/// that share the database, and they would stop reloading and starting.
#[test]
fn rotate_with_another_key_encryption_key_is_refused_and_writes_nothing() {
    let dir = Workdir::new("wrong-kek");
    dir.tessera(&["migrate"]);
    dir.tessera(&["keys", "rotate"]);
    let before = text(&dir.tessera(&["keys", "list"]));

    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let refused = dir.run(
        &["keys", "rotate"],
        &[("TESSERA_KEY_ENCRYPTION_KEY", other)],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("key-encryption key"),
        "{}",
        text(&refused)
    );
    assert_eq!(text(&dir.tessera(&["keys", "list"])), before);
}
