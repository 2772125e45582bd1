//! The audit trail survives a crash (issue 6, "Continuous monitoring"): the real `tessera`
//! binary serves logins and token grants from several clients at once and is killed with
//! SIGKILL in the middle of them, so open transactions, half-read requests and a running
//! seal pass die with it. Restarted on the same database, it must hold an event for every
//! change that survived and none for a change that did not, and `tessera audit verify`
//! must find the chain intact once the rest is sealed.
//!
//! The binary is built by cargo (this package cannot name another package's binary through
//! `CARGO_BIN_EXE_*`), into the target directory these tests were built in, and runs in a
//! directory of its own, configured through `TESSERA_*` variables only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{bail, Context};
use secrecy::SecretString;
use serde_json::Value;
use tessera_core::accounts::{self, NewClientRequest, NewUserRequest};
use tessera_core::audit::seal::SEAL_GRACE;
use tessera_core::keys::KeyEncryptionKey;
use tessera_core::password::PasswordHasher;
use tessera_core::{unix_now, Settings};
use tessera_e2e::{
    engines, hidden_field, query_param, Browser, TestClient, PASSWORD, REDIRECT_URI,
};
use tessera_protocol::types::Issuer;
use tessera_store::testing::{strings, TestDatabase};
use tessera_store::Store;

/// People signing in at once, each in a loop of their own, beside one service.
const PEOPLE: usize = 4;

/// Grants the people's logins (codes and refreshes), and the service's, must have had
/// answered before the kill.
const PERSON_GRANTS_BEFORE_KILL: usize = 12;
const SERVICE_GRANTS_BEFORE_KILL: usize = 4;

/// The `tessera` binary, built once per test run.
fn tessera_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // This test runs from <target>/<profile>/deps/.
        let exe = std::env::current_exe().unwrap();
        let profile = exe.parent().unwrap().parent().unwrap();
        let target = profile.parent().unwrap();
        let mut build = Command::new(env!("CARGO"));
        // Without the variables cargo set for this test: build scripts watch some of them
        // (ring watches CARGO_MANIFEST_DIR), and a difference would rebuild them here and
        // again in the next `cargo test`.
        for (name, _) in std::env::vars() {
            let set_for_test = name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&name.as_str());
            if set_for_test {
                build.env_remove(name);
            }
        }
        build
            .args(["build", "--quiet", "-p", "tessera", "--target-dir"])
            .arg(target);
        if profile.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        let status = build.status().unwrap();
        assert!(status.success(), "cargo build -p tessera failed");
        profile.join(format!("tessera{}", std::env::consts::EXE_SUFFIX))
    })
}

/// One database, and how the binary is run on it.
struct Deployment {
    db: TestDatabase,
    /// The working and data directory, removed at the end.
    dir: PathBuf,
    kek: String,
    port: u16,
}

impl Deployment {
    async fn create(engine: tessera_store::Engine) -> Self {
        let db = TestDatabase::create(engine).await;
        let dir = std::env::temp_dir().join(format!(
            "tessera-crash-{}-{}",
            std::process::id(),
            unique_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        // A free port now; the binary binds it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            db,
            dir,
            kek: KeyEncryptionKey::generate_base64().to_string(),
            port,
        }
    }

    fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The binary with these arguments, configured for this deployment and nothing else.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(tessera_binary());
        for (name, _) in std::env::vars() {
            if name.starts_with("TESSERA_") {
                command.env_remove(name);
            }
        }
        command
            .args(args)
            .current_dir(&self.dir)
            .env("RUST_LOG", "warn")
            .env("TESSERA_ISSUER", self.issuer())
            .env("TESSERA_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("TESSERA_DATABASE_URL", &self.db.url)
            .env("TESSERA_DATA_DIR", &self.dir)
            .env("TESSERA_KEY_ENCRYPTION_KEY", &self.kek)
            .env("TESSERA_PASSWORD_HASH_CONCURRENCY", "2");
        command
    }

    /// Runs a command of the binary to its end.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Starts `tessera serve` and waits until it answers.
    async fn serve(&self, log: &str) -> Child {
        let log = std::fs::File::create(self.dir.join(log)).unwrap();
        let mut child = self
            .command(&["serve"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let discovery = format!("{}/.well-known/openid-configuration", self.issuer());
        // Bounded, so that a server that never comes up fails the test instead of hanging it.
        for _ in 0..600 {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("tessera serve exited: {status}");
            }
            if let Ok(response) = reqwest::get(&discovery).await {
                if response.status() == 200 {
                    return child;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tessera serve did not answer");
    }

    async fn store(&self) -> Store {
        Store::connect(&self.db.url, 2).await.unwrap()
    }

    async fn remove(self) {
        self.db.drop_database().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A name no other run of this test uses at the same time.
fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The people, a first-party web client for codes and refresh tokens, and a service.
async fn seed(deployment: &Deployment) -> (Vec<String>, TestClient, TestClient) {
    let store = deployment.db.store().await;
    let now = unix_now();
    let hasher = PasswordHasher::new(1).unwrap();
    let policy = Settings::new(Issuer::parse(&deployment.issuer()).unwrap()).password_policy();
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        let username = format!("person{i}");
        let request = NewUserRequest {
            username: &username,
            email: None,
            display_name: None,
            password: SecretString::from(PASSWORD),
        };
        accounts::create_user(&store, &hasher, &policy, request, now)
            .await
            .unwrap();
        people.push(username);
    }
    let web = client(
        &store,
        "Web",
        "openid offline_access",
        &["authorization_code", "refresh_token"],
    )
    .await;
    let service = client(&store, "Service", "reports:read", &["client_credentials"]).await;
    store.close().await;
    (people, web, service)
}

async fn client(store: &Store, name: &str, scope: &str, grants: &[&str]) -> TestClient {
    let uris = vec![REDIRECT_URI.to_string()];
    let grants: Vec<String> = grants.iter().map(|g| g.to_string()).collect();
    let request = NewClientRequest {
        name,
        redirect_uris: &uris,
        first_party: true,
        id_token_alg: "RS256",
        scope,
        grant_types: &grants,
        ..NewClientRequest::default()
    };
    let created = accounts::create_client(store, request, unix_now())
        .await
        .unwrap();
    TestClient {
        id: created.client_id,
        secret: created.client_secret.map(|s| s.expose().to_string()),
        redirect_uri: REDIRECT_URI.to_string(),
    }
}

/// The `Location` of a 303, which must start with `prefix`.
fn redirected(response: &reqwest::Response, prefix: &str) -> anyhow::Result<String> {
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if response.status() != 303 || !location.starts_with(prefix) {
        bail!(
            "expected a redirect to {prefix}, got {} to {location:?}",
            response.status()
        );
    }
    Ok(location.to_string())
}

/// A login through the hosted pages; the authorization code it ends with.
async fn sign_in(issuer: &str, web: &TestClient, username: &str) -> anyhow::Result<String> {
    let http = Browser::new().http;
    let mut authorize = url::Url::parse(&format!("{issuer}/authorize"))?;
    authorize.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", web.id.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid offline_access"),
    ]);
    let response = http.get(authorize.as_str()).send().await?;
    let login = redirected(&response, &format!("{issuer}/login"))?;
    let page = http.get(&login).send().await?.text().await?;
    let csrf = hidden_field(&page, "csrf").context("no login form")?;
    let form = [
        ("csrf", csrf.as_str()),
        ("username", username),
        ("password", PASSWORD),
    ];
    let response = http.post(&login).form(&form).send().await?;
    let resume = redirected(&response, &format!("{issuer}/resume"))?;
    let response = http.get(&resume).send().await?;
    let callback = redirected(&response, REDIRECT_URI)?;
    query_param(&callback, "code").context("no code")
}

/// A token request as `client`; the JSON answer, which must be a 200.
async fn grant(issuer: &str, client: &TestClient, form: &[(&str, &str)]) -> anyhow::Result<Value> {
    let response = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(form)
        .send()
        .await?;
    if response.status() != 200 {
        bail!("the token endpoint answered {}", response.status());
    }
    Ok(response.json().await?)
}

/// Signs `username` in, redeems the code and refreshes once, again and again.
async fn person(
    issuer: String,
    web: TestClient,
    username: String,
    grants: Arc<AtomicUsize>,
) -> anyhow::Error {
    loop {
        let code = match sign_in(&issuer, &web, &username).await {
            Ok(code) => code,
            Err(err) => return err,
        };
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
        ];
        let tokens = match grant(&issuer, &web, &form).await {
            Ok(tokens) => tokens,
            Err(err) => return err,
        };
        grants.fetch_add(1, Ordering::SeqCst);
        let refresh_token = tokens["refresh_token"].as_str().unwrap_or_default();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Err(err) = grant(&issuer, &web, &form).await {
            return err;
        }
        grants.fetch_add(1, Ordering::SeqCst);
    }
}

/// Client-credentials grants, one after another.
async fn service(issuer: String, service: TestClient, grants: Arc<AtomicUsize>) -> anyhow::Error {
    loop {
        let form = [("grant_type", "client_credentials")];
        if let Err(err) = grant(&issuer, &service, &form).await {
            return err;
        }
        grants.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs the load until `GRANTS_BEFORE_KILL` grants were answered, then kills the server
/// with SIGKILL while the load goes on. Every worker must have stopped on a broken
/// connection, not on a wrong answer.
async fn load_and_kill(
    mut server: Child,
    issuer: &str,
    people: &[String],
    web: &TestClient,
    svc: &TestClient,
) {
    let person_grants = Arc::new(AtomicUsize::new(0));
    let service_grants = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for username in people {
        workers.push(tokio::spawn(person(
            issuer.to_string(),
            web.clone(),
            username.clone(),
            person_grants.clone(),
        )));
    }
    workers.push(tokio::spawn(service(
        issuer.to_string(),
        svc.clone(),
        service_grants.clone(),
    )));

    let enough = || {
        person_grants.load(Ordering::SeqCst) >= PERSON_GRANTS_BEFORE_KILL
            && service_grants.load(Ordering::SeqCst) >= SERVICE_GRANTS_BEFORE_KILL
    };
    // Bounded, so that a load that stalls fails the test instead of hanging it.
    for _ in 0..6000 {
        if enough() {
            break;
        }
        assert!(
            workers.iter().all(|worker| !worker.is_finished()),
            "a worker stopped before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(enough(), "the load stalled");
    // std's kill is SIGKILL on Unix: no shutdown, no flush, no rollback by the process.
    server.kill().unwrap();
    server.wait().unwrap();

    for worker in workers {
        let err = worker.await.unwrap();
        assert!(
            err.downcast_ref::<reqwest::Error>().is_some(),
            "a worker got a wrong answer, not a broken connection: {err:#}"
        );
    }
}

/// How many times each value occurs.
fn counted(values: Vec<String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for value in values {
        *counts.entry(value).or_insert(0) += 1;
    }
    counts
}

/// Every session and access token in the database has its success event, written in its
/// transaction, and no success event names one that is not there: both sides are counted
/// by person (or client) and second, which each event records as its `occurred_at`.
async fn assert_changes_match_events(store: &Store) {
    let sessions = counted(
        strings(
            store,
            "SELECT user_id || ' ' || CAST(auth_time AS TEXT) FROM sessions",
        )
        .await,
    );
    let logins = counted(
        strings(
            store,
            "SELECT user_id || ' ' || CAST(occurred_at AS TEXT) FROM audit_events \
             WHERE event_type = 'login.password' AND outcome = 'success'",
        )
        .await,
    );
    assert!(!sessions.is_empty());
    assert_eq!(sessions, logins, "sessions against login events");

    let tokens = counted(
        strings(
            store,
            "SELECT client_id || ' ' || COALESCE(user_id, '-') || ' ' || CAST(issued_at AS TEXT) \
             FROM access_tokens",
        )
        .await,
    );
    let grants = counted(
        strings(
            store,
            "SELECT client_id || ' ' || COALESCE(user_id, '-') || ' ' || \
             CAST(occurred_at AS TEXT) FROM audit_events \
             WHERE event_type IN ('token.authorization_code', 'token.refresh_token', \
             'token.client_credentials') AND outcome = 'success'",
        )
        .await,
    );
    let least = PERSON_GRANTS_BEFORE_KILL + SERVICE_GRANTS_BEFORE_KILL;
    assert!(tokens.values().sum::<usize>() >= least);
    assert_eq!(tokens, grants, "access tokens against grant events");
}

/// Each refresh-token family began with a code grant that says it issued one, and holds one
/// token more than the refresh events that name it.
async fn assert_families_match_events(store: &Store) {
    let rows = counted(strings(store, "SELECT family_id FROM refresh_tokens").await);
    let details = |event_type: &str| {
        let sql = format!(
            "SELECT detail FROM audit_events \
             WHERE event_type = '{event_type}' AND outcome = 'success'"
        );
        async move {
            strings(store, &sql)
                .await
                .iter()
                .map(|detail| serde_json::from_str::<Value>(detail).unwrap())
                .collect::<Vec<_>>()
        }
    };
    let begun = details("token.authorization_code")
        .await
        .iter()
        .filter(|detail| detail["refresh_token"] == true)
        .count();
    let refreshes = counted(
        details("token.refresh_token")
            .await
            .iter()
            .map(|detail| detail["family"].as_str().unwrap().to_string())
            .collect(),
    );
    assert_eq!(
        rows.len(),
        begun,
        "families against code grants that began one"
    );
    for (family, tokens) in &rows {
        let refreshed = refreshes.get(family).copied().unwrap_or(0);
        assert_eq!(*tokens, refreshed + 1, "family {family}");
    }
    assert!(refreshes.keys().all(|family| rows.contains_key(family)));
}

/// Seals what is left, as an operator would after the crash, and verifies the chain.
async fn seal_and_verify(deployment: &Deployment, store: &Store) {
    // The sealer leaves events younger than its grace period; wait until none is.
    let newest: i64 = strings(
        store,
        "SELECT CAST(MAX(occurred_at) AS TEXT) FROM audit_events",
    )
    .await[0]
        .parse()
        .unwrap();
    while unix_now() <= newest + SEAL_GRACE {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sealed = deployment.run(&["audit", "seal"]);
    assert!(
        sealed.status.success(),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );

    let verified = deployment.run(&["audit", "verify"]);
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(
        verified.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(report.contains("no tampering found"), "{report}");
    assert!(!report.contains("not yet sealed"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_an_event_for_every_change_and_an_intact_chain() {
    // Built first, so that no database waits on the build.
    tessera_binary();
    for engine in engines() {
        let deployment = Deployment::create(engine).await;
        let (people, web, svc) = seed(&deployment).await;
        let issuer = deployment.issuer();

        let server = deployment.serve("first.log").await;
        load_and_kill(server, &issuer, &people, &web, &svc).await;

        // Restarted on the same database, it serves again.
        let mut restarted = deployment.serve("second.log").await;
        let code = sign_in(&issuer, &web, &people[0]).await.unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
        ];
        grant(&issuer, &web, &form).await.unwrap();
        restarted.kill().unwrap();
        restarted.wait().unwrap();

        let store = deployment.store().await;
        assert_changes_match_events(&store).await;
        assert_families_match_events(&store).await;
        seal_and_verify(&deployment, &store).await;
        store.close().await;
        deployment.remove().await;
    }
}
