//! The `tessera` binary: a thin shell over the server and core crates.

mod admin_cmd;
mod audit_cmd;
mod config;
mod keys_cmd;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use tessera_core::accounts::{self, NewClientRequest, NewUserRequest};
use tessera_core::audit::{self, Exporter};
use tessera_core::mfa::MfaPolicy;
use tessera_core::password::PasswordHasher;
use tessera_core::throttle;
use tessera_core::{unix_now, Provider};
use tessera_server::ServerOptions;
use tessera_store::Store;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// How often expired sessions, codes, interactions and token records are deleted.
const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// How often audit events are sealed and exported.
const AUDIT_SEAL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// How often the audit webhook is offered what it is owed.
const AUDIT_WEBHOOK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// How often queued back-channel logout notifications are looked for.
const LOGOUT_DELIVERY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "A standalone OpenID Connect provider"
)]
struct Cli {
    /// Configuration file (TOML). Default: ./tessera.toml if it exists.
    #[arg(long, global = true, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage OAuth clients (relying parties).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// The admin API: the first admin, roles, the OpenAPI description.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Rotate and list the signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check and seal the tamper-evident audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and its signed checkpoints; report every event edited, deleted
    /// or reordered after sealing. Exits non-zero on any finding.
    Verify,
    /// Seal the events a running server has not sealed yet, and sign a checkpoint now.
    Seal,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Make the first admin: gives the role `admin` to this user, creating them when they do
    /// not exist (password from a prompt, or stdin with --password-stdin). Refused once
    /// anyone holds `admin`.
    Bootstrap {
        #[arg(long)]
        username: String,
        /// Read the password of a new user from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user a role: admin, user-admin, client-admin, key-admin or auditor.
    GrantRole { username: String, role: String },
    /// Take a role from a user; their tokens lose its scopes at their next call.
    RevokeRole { username: String, role: String },
    /// Print the admin API's OpenAPI 3.1 description (as in docs/admin-openapi.json).
    Openapi,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a new signing key for each algorithm (or one), published in JWKS now and
    /// signing after `key_publish_ahead`; the key it replaces retires then. Running servers
    /// pick it up within `key_reload_interval`.
    Rotate {
        /// Rotate only this algorithm's key.
        #[arg(long, value_parser = ["RS256", "ES256"])]
        alg: Option<String>,
        /// Sign with the new key at once, e.g. after a key was exposed. Relying parties
        /// holding a cached JWKS reject new tokens until they refetch it.
        #[arg(long)]
        danger_activate_immediately: bool,
    },
    /// List the signing keys: id, algorithm, state and times. Never prints key material.
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from a prompt, or from stdin with --password-stdin.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: they can no longer log in, and every token they hold is revoked.
    Disable { username: String },
    /// Enable a disabled user again; tokens revoked when they were disabled stay revoked.
    Enable { username: String },
    /// Remove a user's second factors (authenticator and recovery codes) and revoke every
    /// token they hold; their next login to a client that requires a factor enrols anew.
    ResetFactors { username: String },
    /// Clear the delays on a user's password and second-factor codes that failed attempts
    /// built up, so they can try again now. Delays on source addresses stay.
    Unthrottle { username: String },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client; prints its client_id and, once, its secret.
    Create {
        #[arg(long)]
        name: String,
        /// A redirect URI, compared by exact string; repeat for several.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A public client (native or browser app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// Skip the consent page for this client.
        #[arg(long)]
        first_party: bool,
        /// ID token signing algorithm: RS256 or ES256.
        #[arg(long, default_value = "RS256")]
        id_token_alg: String,
        /// Scopes the client may request.
        #[arg(long, default_value = "openid profile email")]
        scope: String,
        /// A grant type the client may use (authorization_code, refresh_token,
        /// client_credentials); repeat for several. Given at all, it replaces the default
        /// authorization_code: refresh tokens need `--grant-type authorization_code
        /// --grant-type refresh_token`.
        #[arg(long = "grant-type", default_value = "authorization_code")]
        grant_types: Vec<String>,
        /// A URI allowed after logout, compared by exact string; repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Where back-channel logout tokens are posted.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// A file holding the client's public JWK set: the client authenticates with
        /// private_key_jwt and gets no secret.
        #[arg(long, conflicts_with_all = ["jwks_uri", "public"])]
        jwks_file: Option<PathBuf>,
        /// Where the client publishes its public JWK set (https): the client authenticates
        /// with private_key_jwt and gets no secret.
        #[arg(long, conflicts_with = "public")]
        jwks_uri: Option<String>,
        /// Whether its logins need a second factor: required (people without one enrol
        /// first) or optional. Default: the `mfa_default` setting decides.
        #[arg(long, value_parser = ["required", "optional"])]
        mfa: Option<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    init_logging(&config);
    match cli.command {
        Command::Serve => serve(&config).await,
        Command::Admin { command } => match command {
            AdminCommand::Bootstrap {
                username,
                password_stdin,
            } => admin_cmd::bootstrap(&config, &username, || read_password(password_stdin)).await,
            AdminCommand::GrantRole { username, role } => {
                admin_cmd::change_role(&config, &username, &role, true).await
            }
            AdminCommand::RevokeRole { username, role } => {
                admin_cmd::change_role(&config, &username, &role, false).await
            }
            AdminCommand::Openapi => admin_cmd::openapi(),
        },
        Command::Migrate => {
            open_store(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    email,
                    name,
                    password_stdin,
                },
        } => {
            let password = read_password(password_stdin)?;
            let store = open_store(&config).await?;
            let hasher = PasswordHasher::new(1)?;
            let request = NewUserRequest {
                username: &username,
                email: email.as_deref(),
                display_name: name.as_deref(),
                password,
            };
            let policy = config.settings()?.password_policy();
            let sub = accounts::create_user(&store, &hasher, &policy, request, unix_now()).await?;
            println!("user created: sub {sub}");
            Ok(())
        }
        Command::User {
            command: UserCommand::Disable { username },
        } => {
            let provider = open_provider(&config).await?;
            let revoked = provider
                .set_user_disabled(&username, true, unix_now())
                .await?;
            println!(
                "user disabled; revoked {} refresh and {} access tokens",
                revoked.refresh_tokens, revoked.access_tokens
            );
            Ok(())
        }
        Command::User {
            command: UserCommand::Enable { username },
        } => {
            let store = open_store(&config).await?;
            accounts::set_user_disabled(&store, &username, false, unix_now()).await?;
            println!("user enabled");
            Ok(())
        }
        Command::User {
            command: UserCommand::ResetFactors { username },
        } => {
            let provider = open_provider(&config).await?;
            let revoked = provider.reset_factors(&username, unix_now()).await?;
            println!(
                "second factors removed; revoked {} refresh and {} access tokens",
                revoked.refresh_tokens, revoked.access_tokens
            );
            Ok(())
        }
        Command::User {
            command: UserCommand::Unthrottle { username },
        } => {
            let store = open_store(&config).await?;
            let cleared = throttle::unthrottle_user(&store, &username, unix_now()).await?;
            println!("delays cleared; removed {cleared} counters");
            Ok(())
        }
        Command::Client {
            command:
                ClientCommand::Create {
                    name,
                    redirect_uris,
                    public,
                    first_party,
                    id_token_alg,
                    scope,
                    grant_types,
                    post_logout_redirect_uris,
                    backchannel_logout_uri,
                    jwks_file,
                    jwks_uri,
                    mfa,
                },
        } => {
            let jwks = jwks_file
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))
                })
                .transpose()?;
            let store = open_store(&config).await?;
            let request = NewClientRequest {
                name: &name,
                redirect_uris: &redirect_uris,
                public,
                first_party,
                id_token_alg: &id_token_alg,
                scope: &scope,
                grant_types: &grant_types,
                post_logout_redirect_uris: &post_logout_redirect_uris,
                backchannel_logout_uri: backchannel_logout_uri.as_deref(),
                jwks: jwks.as_deref(),
                jwks_uri: jwks_uri.as_deref(),
                mfa: mfa.as_deref().and_then(MfaPolicy::parse),
                ..NewClientRequest::default()
            };
            let created = accounts::create_client(&store, request, unix_now()).await?;
            println!("client_id: {}", created.client_id);
            match &created.client_secret {
                Some(secret) => {
                    println!("client_secret: {}", secret.expose());
                    eprintln!("Store the client secret now: it is shown only once.");
                }
                None if jwks_uri.is_some() || jwks.is_some() => {
                    println!("token_endpoint_auth_method: private_key_jwt");
                }
                None => {}
            }
            Ok(())
        }
        Command::Keys {
            command:
                KeysCommand::Rotate {
                    alg,
                    danger_activate_immediately,
                },
        } => keys_cmd::rotate(&config, alg.as_deref(), danger_activate_immediately).await,
        Command::Keys {
            command: KeysCommand::List,
        } => keys_cmd::list(&config).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => audit_cmd::verify(&config).await,
        Command::Audit {
            command: AuditCommand::Seal,
        } => audit_cmd::seal(&config).await,
    }
}

/// The log filter unless `RUST_LOG` says otherwise. webauthn-rs logs every malformed
/// response a browser (or anyone) sends at level error; Tessera records each refusal itself,
/// as an audit event and an info line, so the library's own lines are off by default.
const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,webauthn_rs_core=off,webauthn_rs=off";

fn init_logging(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    config.prepare_sqlite_dir()?;
    let store = Store::connect(&config.database_url, config.database_max_connections)
        .await
        .context("setting `database_url`: cannot connect")?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// The provider, for commands whose changes must be signed: ending a person's sessions
/// queues back-channel logout tokens, which the serving instances deliver from the outbox.
pub(crate) async fn open_provider(config: &Config) -> anyhow::Result<Provider> {
    let kek = config.key_encryption_key()?;
    let store = open_store(config).await?;
    Ok(Provider::new(store, config.settings()?, &kek, unix_now()).await?)
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let kek = config.key_encryption_key()?;
    let store = open_store(config).await?;
    let provider = Provider::new(store.clone(), config.settings()?, &kek, unix_now()).await?;
    // The provider keeps its own copy, to open keys created after start-up.
    drop(kek);
    let retention = tessera_core::maintenance::Retention {
        throttle_forget_after: provider.settings().throttle.forget_after,
        risk: provider.settings().risk.clone(),
    };
    tokio::spawn(tessera_core::maintenance::purge_loop(
        store,
        PURGE_INTERVAL,
        retention,
    ));
    let reload = std::time::Duration::from_secs(config.key_reload_interval);
    tokio::spawn(tessera_core::maintenance::key_loop(
        provider.clone(),
        reload,
    ));
    tokio::spawn(tessera_core::backchannel::delivery_loop(
        provider.clone(),
        LOGOUT_DELIVERY_INTERVAL,
    ));
    let settings = provider.settings();
    let exporter = Exporter::open(&settings.audit.export, provider.store())
        .await
        .context("setting `audit_export`: cannot open the export")?;
    tokio::spawn(audit::seal_loop(
        provider.clone(),
        exporter,
        AUDIT_SEAL_INTERVAL,
    ));
    if settings.audit.webhook.is_some() {
        tokio::spawn(audit::webhook_loop(
            provider.clone(),
            AUDIT_WEBHOOK_INTERVAL,
        ));
    }

    if let Some(address) = &config.metrics_listen {
        let handle = tessera_server::metrics::install()
            .context("setting `metrics_listen`: the metrics recorder is already installed")?;
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("setting `metrics_listen`: cannot bind {address}"))?;
        tracing::info!(metrics_listen = %address, "serving metrics");
        tokio::spawn(async move {
            if let Err(err) =
                tessera_server::metrics::serve(listener, handle, shutdown_signal()).await
            {
                tracing::error!(error = %err, "the metrics endpoint stopped");
            }
        });
    }

    let options = ServerOptions {
        max_body_bytes: config.max_body_bytes,
        metadata_max_age: config.metadata_max_age,
    };
    let app = tessera_server::router(provider.clone(), &options);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("setting `listen`: cannot bind {}", config.listen))?;
    tracing::info!(issuer = %config.issuer, listen = %config.listen, "tessera is serving");
    tessera_server::serve(listener, app, shutdown_signal()).await?;

    // The events sealed since the last checkpoint would otherwise wait for the next start,
    // and `audit verify` run meanwhile would report them owed one.
    if let Err(err) = provider
        .seal_audit_trail(unix_now(), audit::Checkpoint::Now)
        .await
    {
        tracing::warn!(error = %err, "sealing the audit trail at shutdown failed");
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// Reads a password without it ever being a command-line argument.
fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            bail!("no password on standard input");
        }
        return Ok(SecretString::from(password));
    }
    let first = SecretString::from(rpassword::prompt_password("Password: ")?);
    let again = SecretString::from(rpassword::prompt_password("Repeat password: ")?);
    if first.expose_secret() != again.expose_secret() {
        bail!("the passwords do not match");
    }
    Ok(first)
}
