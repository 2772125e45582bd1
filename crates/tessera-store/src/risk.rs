//! What a person's successful logins taught the risk scoring: when and where the last one
//! was, the hours of the day they log in, and the networks and countries they came from.
//!
//! The store keeps the facts and judges nothing; `tessera_core::risk` decides what is new or
//! unusual. Everything here is personal data, erased with the person
//! ([`Tx::delete_risk_history`]); networks and countries unused for long are forgotten
//! ([`Store::purge_risk_history`]).

use sqlx::Row;

use crate::{Result, Store, Tx};

/// Hours in a day: the buckets of the login-hour histogram.
pub const HOURS: usize = 24;

/// A place in millionths of a degree, with the GeoIP database's accuracy radius.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredPlace {
    pub latitude_e6: i64,
    pub longitude_e6: i64,
    pub accuracy_km: i64,
}

/// A person's history, as the scoring of their next login reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskHistory {
    /// Where and when the person last logged in from an address with a known location;
    /// `None` until one had a location. A login from an address without one leaves it as it
    /// was, so that travel is measured from the last place known, over the whole time since.
    pub last_place: Option<(StoredPlace, i64)>,
    /// Successful logins per hour of the day (UTC).
    pub hours: [i64; HOURS],
}

/// What one successful login teaches.
#[derive(Clone, Debug, Default)]
pub struct LoginLesson<'a> {
    /// The address prefix, e.g. `192.0.2.0/24`; none when the source address is unknown.
    pub network: Option<&'a str>,
    /// The ISO 3166-1 country code, when the GeoIP database knows the address.
    pub country: Option<&'a str>,
    pub place: Option<StoredPlace>,
    /// The hour of the day (UTC) of the login, 0 to 23.
    pub hour: i64,
}

impl Store {
    /// The person's history, or `None` before their first successful login since risk
    /// scoring began.
    pub async fn risk_history(&self, user_id: &str) -> Result<Option<RiskHistory>> {
        let Some(row) = sqlx::query(
            "SELECT last_place_at, last_latitude_e6, last_longitude_e6, last_accuracy_km \
             FROM risk_profiles WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let at: Option<i64> = row.try_get("last_place_at")?;
        let latitude: Option<i64> = row.try_get("last_latitude_e6")?;
        let longitude: Option<i64> = row.try_get("last_longitude_e6")?;
        let accuracy: Option<i64> = row.try_get("last_accuracy_km")?;
        let last_place = match (latitude, longitude, at) {
            (Some(latitude_e6), Some(longitude_e6), Some(at)) => Some((
                StoredPlace {
                    latitude_e6,
                    longitude_e6,
                    accuracy_km: accuracy.unwrap_or(0),
                },
                at,
            )),
            _ => None,
        };

        let rows = sqlx::query("SELECT hour, logins FROM risk_login_hours WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        let mut hours = [0_i64; HOURS];
        for row in rows {
            let hour: i64 = row.try_get("hour")?;
            let logins: i64 = row.try_get("logins")?;
            // Only hours 0 to 23 are ever written; anything else is ignored, not trusted.
            if let Some(bucket) = usize::try_from(hour).ok().and_then(|h| hours.get_mut(h)) {
                *bucket = logins;
            }
        }

        Ok(Some(RiskHistory { last_place, hours }))
    }

    /// Whether the person logged in from `network` before.
    pub async fn network_seen(&self, user_id: &str, network: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM risk_networks WHERE user_id = $1 AND network = $2")
            .bind(user_id)
            .bind(network)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Forgets the networks and countries last logged in from at or before `cutoff`, at most
    /// `batch` rows a statement so that no statement holds locks for long; returns how many
    /// went. Safe to run from several instances at once.
    pub async fn purge_risk_history(&self, cutoff: i64, batch: i64) -> Result<u64> {
        let full = u64::try_from(batch).unwrap_or(0);
        let mut removed = 0;
        for (table, column) in [("risk_networks", "network"), ("risk_countries", "country")] {
            // The outer condition is checked again against a row a login updated while the
            // statement ran (PostgreSQL rechecks it on the new version), so a network seen
            // just now is never forgotten by a batch chosen a moment before.
            let sql = format!(
                "DELETE FROM {table} WHERE last_seen_at <= $1 AND (user_id, {column}) IN \
                 (SELECT user_id, {column} FROM {table} WHERE last_seen_at <= $1 LIMIT $2)"
            );
            loop {
                let done = sqlx::query(&sql)
                    .bind(cutoff)
                    .bind(batch)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                removed += done;
                // A short batch was the last one.
                if done == 0 || done < full {
                    break;
                }
            }
        }
        Ok(removed)
    }

    /// Whether the person logged in from `country` before.
    pub async fn country_seen(&self, user_id: &str, country: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM risk_countries WHERE user_id = $1 AND country = $2")
            .bind(user_id)
            .bind(country)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

impl Tx {
    /// Records a successful login at `now`: the person has a baseline from now on, its place
    /// (when its address had one) is the last place known, its hour counts once more, and its
    /// network and country are known.
    pub async fn learn_login(
        &mut self,
        user_id: &str,
        lesson: &LoginLesson<'_>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO risk_profiles (user_id, first_login_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(now)
        .execute(&mut *self.0)
        .await?;
        if let Some(place) = lesson.place {
            sqlx::query(
                "UPDATE risk_profiles SET last_place_at = $1, last_latitude_e6 = $2, \
                 last_longitude_e6 = $3, last_accuracy_km = $4 WHERE user_id = $5",
            )
            .bind(now)
            .bind(place.latitude_e6)
            .bind(place.longitude_e6)
            .bind(place.accuracy_km)
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        }

        sqlx::query(
            "INSERT INTO risk_login_hours (user_id, hour, logins) VALUES ($1, $2, 1) \
             ON CONFLICT (user_id, hour) DO UPDATE SET logins = risk_login_hours.logins + 1",
        )
        .bind(user_id)
        .bind(lesson.hour)
        .execute(&mut *self.0)
        .await?;

        for (table, column, value) in [
            ("risk_networks", "network", lesson.network),
            ("risk_countries", "country", lesson.country),
        ] {
            let Some(value) = value else {
                continue;
            };
            let sql = format!(
                "INSERT INTO {table} (user_id, {column}, first_seen_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, {column}) DO UPDATE SET last_seen_at = $5"
            );
            sqlx::query(&sql)
                .bind(user_id)
                .bind(value)
                .bind(now)
                .bind(now)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
        }
        Ok(())
    }

    /// Erases everything risk scoring learned about a person (a deleted account).
    pub async fn delete_risk_history(&mut self, user_id: &str) -> Result<()> {
        for sql in [
            "DELETE FROM risk_profiles WHERE user_id = $1",
            "DELETE FROM risk_login_hours WHERE user_id = $1",
            "DELETE FROM risk_networks WHERE user_id = $1",
            "DELETE FROM risk_countries WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *self.0).await?;
        }
        Ok(())
    }
}
