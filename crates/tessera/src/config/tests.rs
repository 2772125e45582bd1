use super::*;

fn refused(config: &Config) -> String {
    format!("{:#}", config.validate().unwrap_err())
}

#[test]
fn the_defaults_are_valid() {
    Config::default().validate().unwrap();
}

#[test]
fn a_key_must_be_published_longer_than_jwks_is_cached() {
    let config = Config {
        key_publish_ahead: 300,
        metadata_max_age: 300,
        key_reload_interval: 60,
        ..Config::default()
    };
    let message = refused(&config);
    assert!(message.contains("`key_publish_ahead` (300)"), "{message}");

    let config = Config {
        key_publish_ahead: 360,
        ..config
    };
    config.validate().unwrap();
}

#[test]
fn scheduled_rotation_must_outlast_the_publish_ahead() {
    let config = Config {
        key_rotation_interval: 3600,
        ..Config::default()
    };
    let message = refused(&config);
    assert!(
        message.contains("`key_rotation_interval` (3600)"),
        "{message}"
    );

    let off = Config {
        key_rotation_interval: 0,
        ..Config::default()
    };
    off.validate().unwrap();
}

#[test]
fn reload_interval_and_max_age_are_bounded() {
    let config = Config {
        key_reload_interval: 0,
        ..Config::default()
    };
    assert!(refused(&config).contains("`key_reload_interval`"));

    let config = Config {
        metadata_max_age: 86_401,
        ..Config::default()
    };
    assert!(refused(&config).contains("`metadata_max_age`"));
}

/// NIST SP 800-63B §3.1.1.2: never fewer than 8 characters.
#[test]
fn password_min_length_is_at_least_eight() {
    let config = Config {
        password_min_length: 7,
        ..Config::default()
    };
    assert!(refused(&config).contains("`password_min_length` (7)"));
    let config = Config {
        password_min_length: 15,
        ..Config::default()
    };
    assert_eq!(config.settings().unwrap().password_policy().min_chars(), 15);
}

#[test]
fn mfa_default_is_required_or_optional() {
    let config = Config {
        mfa_default: "sometimes".into(),
        ..Config::default()
    };
    assert!(refused(&config).contains("`mfa_default`"));
    let config = Config {
        mfa_default: "required".into(),
        ..Config::default()
    };
    let settings = config.settings().unwrap();
    assert_eq!(settings.mfa_default, tessera_core::mfa::MfaPolicy::Required);
}

#[test]
fn reauthentication_window_is_a_minute_to_a_day() {
    for refused_value in [59, 86_401] {
        let config = Config {
            reauthentication_window: refused_value,
            ..Config::default()
        };
        let message = refused(&config);
        assert!(
            message.contains(&format!("`reauthentication_window` ({refused_value})")),
            "{message}"
        );
    }
    assert_eq!(
        Config::default()
            .settings()
            .unwrap()
            .reauthentication_window,
        300
    );
    let config = Config {
        reauthentication_window: 900,
        ..Config::default()
    };
    assert_eq!(config.settings().unwrap().reauthentication_window, 900);
}

#[test]
fn trusted_proxies_are_addresses_or_networks() {
    let config = Config {
        trusted_proxies: vec![
            "10.0.0.0/8".into(),
            "192.0.2.10".into(),
            "2001:db8::/32".into(),
        ],
        ..Config::default()
    };
    let networks = config.settings().unwrap().trusted_proxies;
    let written: Vec<String> = networks.iter().map(ToString::to_string).collect();
    assert_eq!(written, ["10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32"]);

    let config = Config {
        trusted_proxies: vec!["proxy.example".into()],
        ..Config::default()
    };
    let message = refused(&config);
    assert!(
        message.contains("`trusted_proxies` (\"proxy.example\")"),
        "{message}"
    );
    assert!(Config::default()
        .settings()
        .unwrap()
        .trusted_proxies
        .is_empty());
}

/// The throttle's defaults reach the domain as documented, and a counter must outlive the
/// longest delay, which must be at least the first.
#[test]
fn throttle_settings_are_passed_on_and_bounded() {
    let settings = Config::default().settings().unwrap();
    assert_eq!(settings.throttle, ThrottleSettings::default());
    assert_eq!(settings.throttle.account_free_failures, 5);
    assert_eq!(settings.throttle.first_delay, 2);
    assert_eq!(settings.throttle.max_delay, 900);

    let config = Config {
        throttle_max_delay: 1,
        ..Config::default()
    };
    let message = refused(&config);
    assert!(
        message.contains("`throttle_max_delay` (1): expected 2 to 86400"),
        "{message}"
    );

    let config = Config {
        throttle_forget_after: 600,
        ..Config::default()
    };
    let message = refused(&config);
    assert!(
        message.contains("`throttle_forget_after` (600): expected 900 to 31536000"),
        "{message}"
    );

    let config = Config {
        throttle_client_free_failures: 0,
        ..Config::default()
    };
    assert!(refused(&config).contains("`throttle_client_free_failures` (0)"));
}

#[test]
fn audit_export_is_off_stdout_or_a_named_file() {
    assert_eq!(
        Config::default().settings().unwrap().audit.export,
        ExportTarget::Off
    );
    let config = Config {
        audit_export: "file".into(),
        ..Config::default()
    };
    assert!(refused(&config).contains("`audit_export_file` is required"));

    let config = Config {
        audit_export_file: Some(PathBuf::from("/var/log/tessera/audit.jsonl")),
        ..config
    };
    assert_eq!(
        config.settings().unwrap().audit.export,
        ExportTarget::File(PathBuf::from("/var/log/tessera/audit.jsonl"))
    );

    let config = Config {
        audit_export: "syslog".into(),
        ..Config::default()
    };
    assert!(refused(&config).contains("`audit_export` (\"syslog\")"));
}

#[test]
fn the_audit_webhook_needs_a_long_secret() {
    let config = Config {
        audit_webhook_url: Some("https://siem.example/ingest".into()),
        ..Config::default()
    };
    assert!(refused(&config).contains("`audit_webhook_secret` is required"));

    let config = Config {
        audit_webhook_secret: Some("x".repeat(31)),
        ..config
    };
    let message = refused(&config);
    assert!(message.contains("at least 32 characters"), "{message}");
    assert!(
        !message.contains("xxx"),
        "the secret is never echoed: {message}"
    );

    let config = Config {
        audit_webhook_secret: Some("x".repeat(32)),
        ..config
    };
    let webhook = config.settings().unwrap().audit.webhook.unwrap();
    assert_eq!(webhook.url, "https://siem.example/ingest");

    let config = Config {
        audit_webhook_url: Some("ftp://siem.example/".into()),
        ..config
    };
    assert!(refused(&config).contains("expected an https URL"));
}

/// A webhook Tessera's outbound rules would refuse at every delivery is refused at start.
#[test]
fn plain_http_to_the_webhook_needs_the_danger_switch_and_loopback() {
    let config = Config {
        audit_webhook_url: Some("http://127.0.0.1:9000/ingest".into()),
        audit_webhook_secret: Some("x".repeat(32)),
        ..Config::default()
    };
    let message = refused(&config);
    assert!(
        message.contains(
            "`audit_webhook_url`: plain http is allowed only to a loopback host \
             with `danger_allow_private_outbound`"
        ),
        "{message}"
    );

    let allowed = Config {
        danger_allow_private_outbound: true,
        ..config
    };
    allowed.validate().unwrap();

    let elsewhere = Config {
        audit_webhook_url: Some("http://siem.example/ingest".into()),
        ..allowed
    };
    assert!(refused(&elsewhere).contains("plain http is allowed only to a loopback host"));
}

#[test]
fn a_private_webhook_address_needs_the_danger_switch() {
    let config = Config {
        audit_webhook_url: Some("https://10.0.0.7/ingest".into()),
        audit_webhook_secret: Some("x".repeat(32)),
        ..Config::default()
    };
    let message = refused(&config);
    assert!(
        message.contains("`audit_webhook_url`: the address is private or reserved"),
        "{message}"
    );

    let allowed = Config {
        danger_allow_private_outbound: true,
        ..config
    };
    allowed.validate().unwrap();
}

#[test]
fn audit_retention_is_off_by_default() {
    assert_eq!(
        Config::default().settings().unwrap().audit.retention_days,
        0
    );
}

/// The `[risk]` defaults reach the domain as documented: a new device alone (20) and with a
/// new network (35) stay below the second-factor threshold (40).
#[test]
fn risk_defaults_are_passed_on() {
    let risk = Config::default().settings().unwrap().risk;
    assert_eq!(risk, tessera_core::risk::RiskSettings::default());
    assert_eq!(risk.weights.new_device, 20);
    assert_eq!(risk.weights.new_network, 15);
    assert_eq!(risk.mfa_above, 40);
    assert_eq!(risk.refuse_above, 80);
    assert_eq!(risk.travel_speed_kmh, 1000);
    assert_eq!(risk.history_days, 400);
    assert_eq!(risk.geoip_database, None);
}

/// History is kept from a month (less would make a place visited monthly new at every
/// visit) to ten years; the bounds themselves are accepted.
#[test]
fn risk_history_days_are_bounded() {
    for (days, accepted) in [(29, false), (30, true), (3650, true), (3651, false)] {
        let mut config = Config::default();
        config.risk.history_days = days;
        match config.validate() {
            Ok(()) => {
                assert!(accepted, "{days} was accepted");
                assert_eq!(config.settings().unwrap().risk.history_days, days);
            }
            Err(err) => {
                assert!(!accepted, "{days} was refused: {err:#}");
                let expected = format!("`risk.history_days` ({days}): expected 30 to 3650");
                assert!(format!("{err:#}").contains(&expected), "{err:#}");
            }
        }
    }
}

#[test]
fn risk_values_are_bounded() {
    let mut config = Config::default();
    config.risk.weights.new_country = 101;
    let message = refused(&config);
    assert!(
        message.contains("`risk.weights.new_country` (101): expected 0 to 100"),
        "{message}"
    );

    let mut config = Config::default();
    config.risk.refuse_above = 30;
    let message = refused(&config);
    assert!(
        message.contains("`risk.refuse_above` (30): expected 40 to 100"),
        "{message}"
    );

    let mut config = Config::default();
    config.risk.geoip_database = Some(PathBuf::from("/nonexistent/GeoLite2-City.mmdb"));
    let message = refused(&config);
    assert!(
        message.contains("`risk.geoip_database`: /nonexistent/GeoLite2-City.mmdb is not a file"),
        "{message}"
    );
}

/// `[risk]` and `[risk.weights]` are tables of the TOML file; an unknown key in them stops
/// the start like any other.
#[test]
fn the_risk_section_is_read_from_the_file() {
    let dir = std::env::temp_dir().join(format!("tessera-risk-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tessera.toml");
    std::fs::write(
        &file,
        "[risk]\nmfa_above = 30\n\n[risk.weights]\nunusual_hour = 0\n",
    )
    .unwrap();
    let config = Config::load(Some(&file)).unwrap();
    assert_eq!(config.risk.mfa_above, 30);
    assert_eq!(config.risk.weights.unusual_hour, 0);
    assert_eq!(config.risk.weights.new_device, 20);

    std::fs::write(&file, "[risk]\nmfa_abve = 30\n").unwrap();
    let message = format!("{:#}", Config::load(Some(&file)).unwrap_err());
    assert!(message.contains("mfa_abve"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A key without a URL, or a URL with user info, is refused at start (hostile pass, LOW).
#[test]
fn the_audit_webhook_refuses_a_lone_secret_and_user_info() {
    let lone = Config {
        audit_webhook_secret: Some("x".repeat(32)),
        ..Config::default()
    };
    assert!(refused(&lone).contains("`audit_webhook_url` is required"));
    let credentials = Config {
        audit_webhook_url: Some("https://user:pass@siem.example/ingest".into()),
        audit_webhook_secret: Some("x".repeat(32)),
        ..Config::default()
    };
    assert!(refused(&credentials).contains("user info"));
}
