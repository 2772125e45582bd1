//! Tessera's hosted pages in a real browser: Debian's Chromium, headless, driven from Node by
//! playwright-core, with openid-client (a certified relying-party library) as the app. The
//! scenarios live in `tests/browser/*.mjs`; each test here starts Tessera, registers what
//! the scenario needs, runs it with `node`, and passes when it exits 0.
//!
//! `bash tests/setup.sh` installs Chromium, Node.js, npm and the pinned npm packages. When
//! any of them is missing these tests fail with a message naming that script: a browser test
//! that skipped itself quietly would let CI pass without ever opening a page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_core::accounts::{self, NewClientRequest};
use tessera_core::mfa::MfaPolicy;
use tessera_core::unix_now;
use tessera_e2e::{engines, TestServer, PASSWORD};
use tessera_store::Engine;

/// Debian's `chromium` package; playwright-core downloads no browser of its own.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The oldest Node.js the scenarios run on: Debian 12's `nodejs` package.
const NODE_MAJOR_MIN: u32 = 18;

const SETUP: &str = "run `bash tests/setup.sh`, which installs chromium, nodejs and npm from \
                     Debian when missing and the npm packages of tests/browser";

/// The app's redirect URI. Nothing listens there: the scenario answers the browser's
/// requests to this origin itself. Not the kit's port 9, which Chromium refuses to reach.
const REDIRECT_URI: &str = "http://127.0.0.1:3000/callback";

/// Where the app sends people after logout, on the same origin.
const POST_LOGOUT_REDIRECT_URI: &str = "http://127.0.0.1:3000/signed-out";

/// A scenario that takes longer has hung: the TOTP scenario waits at most one 30-second
/// step per person, and each page has playwright's own 30-second limit.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Fails, naming tests/setup.sh, unless Chromium, Node.js and the npm packages at the
/// versions pinned in tests/browser/package.json are installed.
fn require_prerequisites() {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: {SETUP}"
    );

    let version = std::process::Command::new("node")
        .arg("--version")
        .output()
        .unwrap_or_else(|err| panic!("node could not be run ({err}): {SETUP}"));
    let version = String::from_utf8_lossy(&version.stdout);
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or_else(|| panic!("node printed no version ({version:?}): {SETUP}"));
    assert!(
        major >= NODE_MAJOR_MIN,
        "node {version} is older than {NODE_MAJOR_MIN}: {SETUP}"
    );

    let manifest = read_json(&browser_dir().join("package.json"));
    let dependencies = manifest["dependencies"].as_object().unwrap();
    for (name, pinned) in dependencies {
        let pinned = pinned.as_str().unwrap();
        let installed = browser_dir()
            .join("node_modules")
            .join(name)
            .join("package.json");
        let found = std::fs::read(&installed)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|package| package["version"].as_str().map(str::to_string));
        assert_eq!(
            found.as_deref(),
            Some(pinned),
            "npm package {name} {pinned} is not installed in tests/browser: {SETUP}"
        );
    }
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// Runs `node ARGS` in tests/browser with `env` added, and fails with its output unless it
/// exits 0 within [`SCENARIO_TIMEOUT`].
async fn run_node(args: &[&str], env: &[(&str, String)]) {
    require_prerequisites();
    let started = Instant::now();
    let mut command = tokio::process::Command::new("node");
    command
        .args(args)
        .current_dir(browser_dir())
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        // Dropped at the timeout, the child is killed; Chromium ends with its pipe to it.
        .kill_on_drop(true);
    let output = tokio::time::timeout(SCENARIO_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("node {args:?} ran past {SCENARIO_TIMEOUT:?}"))
        .unwrap_or_else(|err| panic!("node {args:?} could not start ({err}): {SETUP}"));

    // Shown by the test harness when the test fails, or with --nocapture.
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    println!("node {args:?} took {:.1?}", started.elapsed());
    assert!(
        output.status.success(),
        "node {args:?} failed ({}); its output is above",
        output.status
    );
}

fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    }
}

/// A confidential, third-party client (so the consent page shows) whose logins require a
/// second factor, registered for RP-initiated logout back to [`POST_LOGOUT_REDIRECT_URI`].
async fn mfa_client(server: &TestServer) -> (String, String) {
    let redirect_uris = [REDIRECT_URI.to_string()];
    let post_logout_redirect_uris = [POST_LOGOUT_REDIRECT_URI.to_string()];
    let grant_types = ["authorization_code".to_string()];
    let request = NewClientRequest {
        name: "Browser Test App",
        redirect_uris: &redirect_uris,
        public: false,
        first_party: false,
        id_token_alg: "RS256",
        scope: "openid profile email",
        grant_types: &grant_types,
        post_logout_redirect_uris: &post_logout_redirect_uris,
        ..NewClientRequest::default()
    };
    let store = server.provider.store();
    let created = accounts::create_client(store, request, unix_now())
        .await
        .unwrap();
    accounts::set_client_mfa(
        store,
        &created.client_id,
        Some(MfaPolicy::Required),
        unix_now(),
    )
    .await
    .unwrap();
    let secret = created.client_secret.unwrap().expose().to_string();
    (created.client_id, secret)
}

/// Issue 3: password and TOTP in a real browser. First login enrols (scan, code, recovery
/// codes, consent), the app signs the person out at the end-session endpoint, the next login
/// takes a code of a later step; a second person does the same with JavaScript disabled.
/// Every ID token's `amr` is ["pwd", "otp", "mfa"] (RFC 8176 §2); every hosted page sends
/// the CSP and refuses framing. Screenshots land in tests/browser/screenshots/.
#[tokio::test]
async fn password_and_totp_in_chromium_give_amr_pwd_otp_mfa() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        server.create_user("alice").await;
        server.create_user("bob").await;
        let (client_id, client_secret) = mfa_client(&server).await;
        let screenshots = browser_dir()
            .join("screenshots")
            .join(format!("totp-login-{}", engine_name(engine)));

        run_node(
            &["totp-login.mjs"],
            &[
                ("TESSERA_ISSUER", server.issuer.clone()),
                ("TESSERA_CLIENT_ID", client_id),
                ("TESSERA_CLIENT_SECRET", client_secret),
                ("TESSERA_REDIRECT_URI", REDIRECT_URI.to_string()),
                (
                    "TESSERA_POST_LOGOUT_REDIRECT_URI",
                    POST_LOGOUT_REDIRECT_URI.to_string(),
                ),
                ("TESSERA_USERNAME", "alice".to_string()),
                ("TESSERA_NO_SCRIPT_USERNAME", "bob".to_string()),
                ("TESSERA_PASSWORD", PASSWORD.to_string()),
                ("TESSERA_CHROMIUM", CHROMIUM.to_string()),
                ("TESSERA_SCREENSHOTS", screenshots.display().to_string()),
            ],
        )
        .await;
        server.stop().await;
    }
}

/// Passkeys in a real browser, with Chromium's virtual platform authenticator: a first login
/// to a client that requires a second factor registers a passkey at enrolment (recovery
/// codes, consent); the person then signs in with the passkey alone, from the login page's
/// button and from autofill, and with password plus passkey on the factor page; with user
/// verification failing the button starts no session; a second person still enrols TOTP.
/// `amr` is ["pwd", "swk", "user", "mfa"] with the password, ["swk", "user", "mfa"] without
/// (RFC 8176 §2), `acr` "phr"; every hosted page sends the CSP and refuses framing.
#[tokio::test]
async fn passkeys_in_chromium_enrol_and_sign_in_with_amr_swk_user() {
    for engine in engines() {
        let server = TestServer::start_localhost(engine).await;
        server.create_user("carol").await;
        server.create_user("dave").await;
        let (client_id, client_secret) = mfa_client(&server).await;
        let screenshots = browser_dir()
            .join("screenshots")
            .join(format!("passkey-login-{}", engine_name(engine)));

        run_node(
            &["passkey-login.mjs"],
            &[
                ("TESSERA_ISSUER", server.issuer.clone()),
                ("TESSERA_CLIENT_ID", client_id),
                ("TESSERA_CLIENT_SECRET", client_secret),
                ("TESSERA_REDIRECT_URI", REDIRECT_URI.to_string()),
                (
                    "TESSERA_POST_LOGOUT_REDIRECT_URI",
                    POST_LOGOUT_REDIRECT_URI.to_string(),
                ),
                ("TESSERA_USERNAME", "carol".to_string()),
                ("TESSERA_TOTP_USERNAME", "dave".to_string()),
                ("TESSERA_PASSWORD", PASSWORD.to_string()),
                ("TESSERA_CHROMIUM", CHROMIUM.to_string()),
                ("TESSERA_SCREENSHOTS", screenshots.display().to_string()),
            ],
        )
        .await;
        server.stop().await;
    }
}

/// The passkey scaffolding, ahead of WebAuthn in Tessera: Chromium's virtual platform
/// authenticator, installed over CDP, makes a discoverable, user-verified credential for the
/// issuer's host `localhost`, finds it again without a username, and honours a failed user
/// verification; the same page served as 127.0.0.1 cannot make one. Tessera only serves
/// the origin here, so one engine is enough.
#[tokio::test]
async fn the_virtual_authenticator_makes_passkeys_for_the_localhost_issuer() {
    let server = TestServer::start_localhost(Engine::Sqlite).await;
    run_node(
        &["virtual-authenticator.mjs"],
        &[
            ("TESSERA_ISSUER", server.issuer.clone()),
            ("TESSERA_CHROMIUM", CHROMIUM.to_string()),
        ],
    )
    .await;
    server.stop().await;
}

/// The scenarios' TOTP codes (node:crypto) against RFC 4226 Appendix D and RFC 6238
/// Appendix B, so that a refused code points at Tessera, not at the test's arithmetic.
#[tokio::test]
async fn the_scenarios_compute_totp_codes_as_rfc_6238_does() {
    run_node(&["--test", "lib/totp.test.mjs"], &[]).await;
}
