//! `tessera keys`: rotate and list the signing keys. Prints public facts only (key ids,
//! algorithms, states and times), never key material.

use anyhow::Context;
use tessera_core::keys::{self, Activation, Alg, KeyInfo};
use tessera_core::unix_now;

use crate::config::Config;

/// `tessera keys rotate`: a new key for `alg` (or each algorithm), published now.
pub async fn rotate(
    config: &Config,
    alg: Option<&str>,
    danger_activate_immediately: bool,
) -> anyhow::Result<()> {
    let algs = match alg {
        Some(name) => vec![Alg::parse(name)
            .with_context(|| format!("unknown algorithm {name:?}: expected RS256 or ES256"))?],
        None => Alg::ALL.to_vec(),
    };
    let activation = if danger_activate_immediately {
        eprintln!(
            "warning: the new keys sign at once. Relying parties with a cached JWKS reject \
             their tokens until they refetch it, and running instances verify them only after \
             their next key reload (key_reload_interval)."
        );
        Activation::DangerImmediately
    } else {
        Activation::PublishAhead(config.key_publish_ahead)
    };

    let kek = config.key_encryption_key()?;
    let store = crate::open_store(config).await?;
    let retention = config.settings()?.key_retention();
    let now = unix_now();
    for alg in algs {
        let key = keys::rotate(&store, &kek, alg, now, activation, retention)
            .await
            .with_context(|| format!("rotating the {} key", alg.as_str()))?;
        println!(
            "{}: new key {} published now, signs from {}; the key it replaces retires then and \
             leaves JWKS {} s later",
            key.alg,
            key.kid,
            utc(key.activates_at),
            retention
        );
    }
    Ok(())
}

/// `tessera keys list`: every stored key and its state now.
pub async fn list(config: &Config) -> anyhow::Result<()> {
    let store = crate::open_store(config).await?;
    let retention = config.settings()?.key_retention();
    let keys = keys::list(&store, unix_now(), retention).await?;
    println!(
        "{:<16}  {:<5}  {:<8}  {:<20}  {:<20}  {:<20}  LEAVES JWKS",
        "KID", "ALG", "STATUS", "CREATED", "ACTIVATES", "RETIRES"
    );
    for key in &keys {
        println!("{}", row(key));
    }
    Ok(())
}

fn row(key: &KeyInfo) -> String {
    let optional = |at: Option<i64>| at.map(utc).unwrap_or_else(|| "-".into());
    format!(
        "{:<16}  {:<5}  {:<8}  {:<20}  {:<20}  {:<20}  {}",
        key.kid,
        key.alg,
        key.status.as_str(),
        utc(key.created_at),
        utc(key.activates_at),
        optional(key.retired_at),
        optional(key.removed_at),
    )
}

/// Seconds since the epoch as an RFC 3339 UTC time, e.g. `2027-01-15T09:30:00Z`.
fn utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let time = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        time / 3600,
        time % 3600 / 60,
        time % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
