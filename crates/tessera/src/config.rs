//! Configuration: defaults, then a TOML file, then `TESSERA_*` environment variables, each
//! layer overriding the one before. Every setting, its default and what it affects is
//! documented on its field and in the README; an invalid value stops the start with a
//! message naming the setting.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_core::audit::{AuditSettings, ExportTarget, WebhookTarget};
use tessera_core::keys::KeyEncryptionKey;
use tessera_core::mfa::MfaPolicy;
use tessera_core::outbound::is_public;
use tessera_core::throttle::ThrottleSettings;
use tessera_core::Settings;
use tessera_protocol::types::{is_loopback, Issuer};

mod risk;

use risk::RiskConfig;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "tessera.toml";

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The issuer identifier, exactly as relying parties will see it. `https` is required
    /// unless the host is loopback. Default `http://localhost:8080`.
    pub issuer: String,
    /// Address and port to listen on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// `sqlite:…` (embedded) or `postgres://…`. Default `sqlite://data/tessera.db?mode=rwc`.
    pub database_url: String,
    /// Largest database connection pool. Default 16.
    pub database_max_connections: u32,
    /// Directory for the embedded database and the generated key-encryption key.
    /// Default `data`.
    pub data_dir: PathBuf,
    /// The key-encryption key (32 bytes, base64) that seals signing keys at rest. Required
    /// with PostgreSQL, where every instance must share it. Default: none.
    pub key_encryption_key: Option<String>,
    /// A file holding the key-encryption key, instead of the value itself. With SQLite and
    /// neither setting, `<data_dir>/kek` is created on first start. Default: none.
    pub key_encryption_key_file: Option<PathBuf>,
    /// Largest request body accepted, bytes. Default 65536.
    pub max_body_bytes: usize,
    /// Access-token lifetime, seconds. Default 300.
    pub access_token_ttl: i64,
    /// ID-token lifetime, seconds. Default 3600.
    pub id_token_ttl: i64,
    /// Browser session lifetime after login, seconds. Default 43200 (12 hours).
    pub session_ttl: i64,
    /// Time allowed to finish a login and consent, seconds. Default 600.
    pub interaction_ttl: i64,
    /// Fewest characters a new password may have (NIST SP 800-63B §3.1.1.2), 8 to 256.
    /// Applies when a password is set, not to existing ones. Default 8.
    pub password_min_length: usize,
    /// Whether logins need a second factor for clients registered without `--mfa`:
    /// `required` (people without one enrol first) or `optional`. Default `optional`.
    pub mfa_default: String,
    /// How recent, in seconds, the last sign-in must be for the account page to add or
    /// remove a second factor or make new recovery codes; an older session signs in again
    /// first (with its second factor, if the person has one). 60 to 86400. Default 300.
    pub reauthentication_window: i64,
    /// Password hashes computed at once (each uses 19 MiB). Default: number of CPUs.
    pub password_hash_concurrency: Option<usize>,
    /// Addresses or networks (CIDR) of the proxies in front of Tessera whose
    /// `X-Forwarded-For` is believed for the audit trail's source address; a request from
    /// anywhere else is recorded with its peer address. Default empty: nobody is believed.
    pub trusted_proxies: Vec<String>,
    /// `text` or `json` log lines. Default `text`.
    pub log_format: String,
    /// Address and port of the Prometheus scrape endpoint (`GET /metrics`), a listener of its
    /// own so that it can stay on a private interface: it needs no credentials. The metrics
    /// (requests, audit events, outbox backlogs, the audit webhook's among them) are listed in
    /// the README. Default: none (no metrics are collected).
    pub metrics_listen: Option<String>,
    /// Seconds a new signing key is in JWKS before it signs, so relying parties that cache
    /// JWKS fetch it first. At least `metadata_max_age + key_reload_interval`. Default 3600.
    pub key_publish_ahead: i64,
    /// Age in seconds at which the running server rotates a signing key; 0 turns scheduled
    /// rotation off (`tessera keys rotate` still works). Greater than `key_publish_ahead`.
    /// Default 7776000 (90 days).
    pub key_rotation_interval: i64,
    /// Seconds between checks of the database for keys rotated elsewhere (another instance,
    /// the CLI), for a rotation due, and for keys past retention. Default 60.
    pub key_reload_interval: u64,
    /// `max-age` of the discovery and JWKS responses, seconds. Default 300.
    pub metadata_max_age: u32,
    /// Lets requests to client-supplied URLs (a client's `jwks_uri`, its back-channel
    /// logout URI) and to `audit_webhook_url` reach private, loopback, link-local and other
    /// non-public addresses, and plain http on loopback. Off: such requests are refused.
    /// Default false.
    pub danger_allow_private_outbound: bool,
    /// Failed passwords per username, and failed second-factor codes per account, allowed
    /// before delays begin; unknown usernames count alike. 0 to 1000. Default 5.
    pub throttle_free_failures: i64,
    /// Failed client authentications (secret or assertion) per client allowed before delays
    /// begin; failures are counted after their check. 1 to 10000. Default 20.
    pub throttle_client_free_failures: i64,
    /// Failed passwords, codes and client authentications from one source address (IPv6:
    /// one /64), over every account and client, allowed before delays begin. 1 to 10000.
    /// Default 20.
    pub throttle_address_free_failures: i64,
    /// Seconds to wait after the first failure past the free ones; each further failure
    /// doubles it, up to `throttle_max_delay`. 1 to 3600. Default 2.
    pub throttle_first_delay: i64,
    /// The longest wait between attempts, seconds. `throttle_first_delay` to 86400.
    /// Default 900 (15 minutes).
    pub throttle_max_delay: i64,
    /// Seconds after its last failure when a counter starts again from zero (and is
    /// purged). At least `throttle_max_delay`, at most 31536000. Default 86400 (a day).
    pub throttle_forget_after: i64,
    /// Where sealed audit events are written as JSON lines, one per line in chain order:
    /// `off`, `stdout`, or `file` (then `audit_export_file` names it). Default `off`.
    pub audit_export: String,
    /// The file `audit_export = "file"` appends to, created with mode 0600 if absent; a
    /// restart resumes after its last line. Default: none.
    pub audit_export_file: Option<PathBuf>,
    /// A URL to which sealed audit events are posted in order, in batches signed with
    /// HMAC-SHA-256, until it answers 2xx. Subject to the outbound rules (https, public
    /// addresses; see `danger_allow_private_outbound`), checked at start as far as the URL
    /// shows: plain http, or a private address literal, stops the start. Default: none.
    pub audit_webhook_url: Option<String>,
    /// The HMAC key of the webhook's signatures, at least 32 characters. Required with
    /// `audit_webhook_url`. Default: none.
    pub audit_webhook_secret: Option<String>,
    /// Days an audit event is kept before the background task deletes it; 0 keeps every
    /// event. Default 0.
    pub audit_retention_days: u32,
    /// `[risk]`: risk scoring of logins; see [`risk::RiskConfig`] for each value and why
    /// the defaults are what they are.
    pub risk: RiskConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8080".into(),
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://data/tessera.db?mode=rwc".into(),
            database_max_connections: 16,
            data_dir: PathBuf::from("data"),
            key_encryption_key: None,
            key_encryption_key_file: None,
            max_body_bytes: 64 * 1024,
            access_token_ttl: 300,
            id_token_ttl: 3600,
            session_ttl: 12 * 3600,
            interaction_ttl: 600,
            password_min_length: 8,
            mfa_default: "optional".into(),
            reauthentication_window: 300,
            trusted_proxies: Vec::new(),
            password_hash_concurrency: None,
            log_format: "text".into(),
            metrics_listen: None,
            key_publish_ahead: 3600,
            key_rotation_interval: 90 * 24 * 3600,
            key_reload_interval: 60,
            metadata_max_age: 300,
            danger_allow_private_outbound: false,
            throttle_free_failures: 5,
            throttle_client_free_failures: 20,
            throttle_address_free_failures: 20,
            throttle_first_delay: 2,
            throttle_max_delay: 900,
            throttle_forget_after: 86_400,
            audit_export: "off".into(),
            audit_export_file: None,
            audit_webhook_url: None,
            audit_webhook_secret: None,
            audit_retention_days: 0,
            risk: RiskConfig::default(),
        }
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!("configuration file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file(DEFAULT_CONFIG_FILE)),
        }
        let config: Config = figment
            .merge(
                Env::prefixed("TESSERA_")
                    .ignore(&["test_database_url", "config"])
                    // `TESSERA_RISK__MFA_ABOVE` is `mfa_above` of `[risk]`.
                    .split("__"),
            )
            .extract()
            .map_err(|err| anyhow::anyhow!("invalid configuration: {err}"))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        Issuer::parse(&self.issuer).map_err(|why| {
            anyhow::anyhow!("invalid setting `issuer` ({:?}): {why}", self.issuer)
        })?;
        self.listen.parse::<std::net::SocketAddr>().map_err(|_| {
            anyhow::anyhow!(
                "invalid setting `listen` ({:?}): expected address:port",
                self.listen
            )
        })?;
        if !self.database_url.starts_with("sqlite:") && !self.database_url.starts_with("postgres") {
            bail!("invalid setting `database_url`: expected sqlite:… or postgres://…");
        }
        for (name, value) in [
            ("access_token_ttl", self.access_token_ttl),
            ("id_token_ttl", self.id_token_ttl),
            ("session_ttl", self.session_ttl),
            ("interaction_ttl", self.interaction_ttl),
        ] {
            if !(1..=31_536_000).contains(&value) {
                bail!("invalid setting `{name}` ({value}): expected 1 to 31536000 seconds");
            }
        }
        if self.max_body_bytes < 1024 {
            bail!(
                "invalid setting `max_body_bytes` ({}): expected at least 1024",
                self.max_body_bytes
            );
        }
        if !(8..=256).contains(&self.password_min_length) {
            bail!(
                "invalid setting `password_min_length` ({}): expected 8 to 256 characters \
                 (NIST SP 800-63B §3.1.1.2)",
                self.password_min_length
            );
        }
        if MfaPolicy::parse(&self.mfa_default).is_none() {
            bail!(
                "invalid setting `mfa_default` ({:?}): expected required or optional",
                self.mfa_default
            );
        }
        // Below a minute, the person could hardly sign in again and submit the form before
        // the new sign-in is stale too.
        if !(60..=86_400).contains(&self.reauthentication_window) {
            bail!(
                "invalid setting `reauthentication_window` ({}): expected 60 to 86400 seconds",
                self.reauthentication_window
            );
        }
        if self.database_max_connections == 0 {
            bail!("invalid setting `database_max_connections`: expected at least 1");
        }
        self.trusted_proxy_networks()?;
        self.validate_key_rotation()?;
        self.validate_throttle()?;
        self.audit_settings()?;
        self.risk.validate()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "invalid setting `log_format` ({:?}): expected text or json",
                self.log_format
            );
        }
        Ok(())
    }

    /// OIDC Core §10.1.1: a relying party must be able to see a key before it signs. One
    /// that cached JWKS just before the key appeared refetches within `metadata_max_age`;
    /// an instance that has not reloaded yet publishes it within `key_reload_interval`.
    fn validate_key_rotation(&self) -> anyhow::Result<()> {
        if !(1..=3600).contains(&self.key_reload_interval) {
            bail!(
                "invalid setting `key_reload_interval` ({}): expected 1 to 3600 seconds",
                self.key_reload_interval
            );
        }

        if self.metadata_max_age > 86_400 {
            bail!(
                "invalid setting `metadata_max_age` ({}): expected 0 to 86400 seconds",
                self.metadata_max_age
            );
        }

        let seen_by = i64::from(self.metadata_max_age)
            + i64::try_from(self.key_reload_interval).unwrap_or(i64::MAX);
        if !(seen_by..=31_536_000).contains(&self.key_publish_ahead) {
            bail!(
                "invalid setting `key_publish_ahead` ({}): expected {seen_by} (metadata_max_age \
                 + key_reload_interval) to 31536000 seconds, so relying parties see a new key \
                 before it signs",
                self.key_publish_ahead
            );
        }

        let interval = self.key_rotation_interval;
        if interval != 0 && !(self.key_publish_ahead < interval && interval <= 315_360_000) {
            bail!(
                "invalid setting `key_rotation_interval` ({interval}): expected 0 (off), or more \
                 than key_publish_ahead ({}) and at most 315360000 seconds",
                self.key_publish_ahead
            );
        }
        Ok(())
    }

    /// The throttle's numbers, each within its range; a counter must outlive the longest
    /// delay, or the delays would never reach it.
    fn validate_throttle(&self) -> anyhow::Result<()> {
        let ranges = [
            (
                "throttle_free_failures",
                self.throttle_free_failures,
                0,
                1000,
            ),
            (
                "throttle_client_free_failures",
                self.throttle_client_free_failures,
                1,
                10_000,
            ),
            (
                "throttle_address_free_failures",
                self.throttle_address_free_failures,
                1,
                10_000,
            ),
            ("throttle_first_delay", self.throttle_first_delay, 1, 3600),
            (
                "throttle_max_delay",
                self.throttle_max_delay,
                self.throttle_first_delay,
                86_400,
            ),
            (
                "throttle_forget_after",
                self.throttle_forget_after,
                self.throttle_max_delay,
                31_536_000,
            ),
        ];
        for (name, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                bail!("invalid setting `{name}` ({value}): expected {min} to {max}");
            }
        }
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    pub fn settings(&self) -> anyhow::Result<Settings> {
        let issuer = Issuer::parse(&self.issuer)
            .map_err(|why| anyhow::anyhow!("invalid setting `issuer`: {why}"))?;
        let mut settings = Settings::new(issuer);
        settings.access_token_ttl = self.access_token_ttl;
        settings.id_token_ttl = self.id_token_ttl;
        settings.session_ttl = self.session_ttl;
        settings.interaction_ttl = self.interaction_ttl;
        settings.key_publish_ahead = self.key_publish_ahead;
        settings.key_rotation_interval = self.key_rotation_interval;
        settings.danger_allow_private_outbound = self.danger_allow_private_outbound;
        settings.password_min_length = self.password_min_length;
        settings.mfa_default = MfaPolicy::parse(&self.mfa_default).unwrap_or(MfaPolicy::Optional);
        settings.reauthentication_window = self.reauthentication_window;
        settings.trusted_proxies = self.trusted_proxy_networks()?;
        settings.throttle = ThrottleSettings {
            account_free_failures: self.throttle_free_failures,
            client_free_failures: self.throttle_client_free_failures,
            address_free_failures: self.throttle_address_free_failures,
            first_delay: self.throttle_first_delay,
            max_delay: self.throttle_max_delay,
            forget_after: self.throttle_forget_after,
        };
        if let Some(n) = self.password_hash_concurrency {
            settings.password_hash_concurrency = n.max(1);
        }
        settings.audit = self.audit_settings()?;
        settings.risk = self.risk.settings();
        Ok(settings)
    }

    /// The audit trail's export, webhook and retention settings.
    fn audit_settings(&self) -> anyhow::Result<AuditSettings> {
        let export = match (self.audit_export.as_str(), &self.audit_export_file) {
            ("off", _) => ExportTarget::Off,
            ("stdout", _) => ExportTarget::Stdout,
            ("file", Some(path)) => ExportTarget::File(path.clone()),
            ("file", None) => {
                bail!("setting `audit_export_file` is required with audit_export = \"file\"")
            }
            (other, _) => {
                bail!("invalid setting `audit_export` ({other:?}): expected off, stdout or file")
            }
        };
        let webhook = match (&self.audit_webhook_url, &self.audit_webhook_secret) {
            (None, None) => None,
            // A key without a URL means the operator believes events are delivered.
            (None, Some(_)) => {
                bail!("setting `audit_webhook_url` is required with `audit_webhook_secret`")
            }
            (Some(_), None) => {
                bail!("setting `audit_webhook_secret` is required with `audit_webhook_url`")
            }
            (Some(url), Some(secret)) => Some(webhook_target(
                url,
                secret,
                self.danger_allow_private_outbound,
            )?),
        };
        Ok(AuditSettings {
            export,
            webhook,
            retention_days: self.audit_retention_days,
        })
    }

    /// `trusted_proxies` as networks; a bare address is a network of one.
    fn trusted_proxy_networks(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|text| {
                text.parse::<ipnet::IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "invalid setting `trusted_proxies` ({text:?}): expected an IP \
                             address or a CIDR network"
                        )
                    })
            })
            .collect()
    }

    /// Creates an embedded database file and its directory, if the URL names one.
    pub fn prepare_sqlite_dir(&self) -> anyhow::Result<()> {
        if !self.is_sqlite() {
            return Ok(());
        }
        let path = self
            .database_url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or_default();
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }

        // The database holds password hashes and sealed keys: readable by its owner only.
        // SQLite gives its -wal and -shm files the database file's permissions.
        let file = Path::new(path);
        if !path.is_empty() && !path.starts_with(":memory:") && !file.exists() {
            write_private(file, b"")?;
        }
        Ok(())
    }

    /// The key-encryption key, from the setting, its file, or (SQLite only) a generated file.
    pub fn key_encryption_key(&self) -> anyhow::Result<KeyEncryptionKey> {
        if let Some(value) = &self.key_encryption_key {
            return KeyEncryptionKey::from_base64(value)
                .map_err(|why| anyhow::anyhow!("invalid setting `key_encryption_key`: {why}"));
        }
        if let Some(path) = &self.key_encryption_key_file {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "setting `key_encryption_key_file`: cannot read {}",
                    path.display()
                )
            })?;
            return KeyEncryptionKey::from_base64(&text).map_err(|why| {
                anyhow::anyhow!("invalid setting `key_encryption_key_file`: {why}")
            });
        }
        if !self.is_sqlite() {
            bail!(
                "setting `key_encryption_key` is required with PostgreSQL: every instance must \
                 share it. Generate one with `openssl rand -base64 32` and set \
                 TESSERA_KEY_ENCRYPTION_KEY"
            );
        }
        let path = self.data_dir.join("kek");
        if !path.exists() {
            std::fs::create_dir_all(&self.data_dir)
                .with_context(|| format!("creating {}", self.data_dir.display()))?;
            write_private(&path, KeyEncryptionKey::generate_base64().as_bytes())?;
            tracing::info!(path = %path.display(), "generated a key-encryption key");
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        KeyEncryptionKey::from_base64(&text)
            .map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))
    }
}

/// Shorter HMAC keys than this are refused: the key is the receiver's only proof that a
/// post came from Tessera (RFC 2104 §3 advises no less than the hash's output, 32 bytes).
const MIN_WEBHOOK_SECRET_CHARS: usize = 32;

/// The webhook's URL and key. The URL must pass the outbound rules (`tessera_core::outbound`)
/// now, at start, rather than be refused at every delivery while events pile up unsent.
fn webhook_target(url: &str, secret: &str, allow_private: bool) -> anyhow::Result<WebhookTarget> {
    let parsed = url::Url::parse(url)
        .map_err(|_| anyhow::anyhow!("invalid setting `audit_webhook_url`: not a URL"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private && is_loopback(&parsed) => {}
        "http" => bail!(
            "invalid setting `audit_webhook_url`: plain http is allowed only to a loopback host \
             with `danger_allow_private_outbound`; expected an https URL"
        ),
        _ => bail!("invalid setting `audit_webhook_url`: expected an https URL"),
    }
    // Credentials in the URL would travel in every request line's log on the receiver's
    // side and sit in the configuration as the signing key does not; the HMAC is the
    // authentication.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        bail!("invalid setting `audit_webhook_url`: user info (user:password@) is not allowed");
    }

    let literal = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if literal.is_some_and(|ip| !allow_private && !is_public(ip)) {
        bail!(
            "invalid setting `audit_webhook_url`: the address is private or reserved, which \
             only `danger_allow_private_outbound` allows"
        );
    }
    if secret.chars().count() < MIN_WEBHOOK_SECRET_CHARS {
        bail!(
            "invalid setting `audit_webhook_secret`: expected at least \
             {MIN_WEBHOOK_SECRET_CHARS} characters"
        );
    }
    Ok(WebhookTarget {
        url: url.to_string(),
        secret: SecretString::from(secret.to_string()),
    })
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests;
