//! Country and place of an address, from a MaxMind-format database (GeoIP2 or GeoLite2
//! City; a Country database gives countries only, and impossible travel then never fires).
//!
//! The file is read whole at start; replacing it needs a restart. A lookup that fails (an
//! address the database does not cover, or a record it cannot decode) is "unknown", never
//! an error of the login: the two signals that need GeoIP then simply do not fire.

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use super::Place;

/// Why a database could not be used; its text names the file and the cause, for the
/// operator.
#[derive(Debug, thiserror::Error)]
#[error("GeoIP database {path}: {cause}")]
pub struct GeoIpError {
    path: String,
    cause: maxminddb::MaxMindDbError,
}

/// An opened database.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
    /// The database's own name for its kind, e.g. `GeoLite2-City`, for the admin API.
    database_type: String,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("database_type", &self.database_type)
            .finish_non_exhaustive()
    }
}

/// What the database says about one address.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Located {
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub place: Option<Place>,
}

/// The parts of a GeoIP2 City or Country record that scoring reads; the rest is skipped.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    country: Option<CountryRecord<'a>>,
    /// Where the network is registered: the fallback when the database places the address
    /// in no country (anycast and satellite networks, for instance).
    #[serde(borrow, default)]
    registered_country: Option<CountryRecord<'a>>,
    #[serde(default)]
    location: Option<LocationRecord>,
}

#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct LocationRecord {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    accuracy_radius: Option<u16>,
}

impl GeoIp {
    /// Reads and checks the database at `path`.
    pub fn open(path: &Path) -> Result<Self, GeoIpError> {
        let failed = |cause| GeoIpError {
            path: path.display().to_string(),
            cause,
        };
        let reader = maxminddb::Reader::open_readfile(path).map_err(failed)?;
        let database_type = reader.metadata().database_type.clone();
        Ok(Self {
            reader,
            database_type,
        })
    }

    pub fn database_type(&self) -> &str {
        &self.database_type
    }

    /// The country and place of `address`, as far as the database knows them.
    pub fn locate(&self, address: IpAddr) -> Located {
        let record = match self
            .reader
            .lookup(address.to_canonical())
            .and_then(|found| found.decode::<Record<'_>>())
        {
            Ok(Some(record)) => record,
            Ok(None) => return Located::default(),
            Err(error) => {
                // The address is not logged: it is personal data, and the failure is the
                // database's, whatever the address.
                tracing::warn!(%error, "a GeoIP record could not be read");
                return Located::default();
            }
        };

        let country = record
            .country
            .and_then(|c| c.iso_code)
            .or_else(|| record.registered_country.and_then(|c| c.iso_code))
            .filter(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
            .map(str::to_string);

        let place = record.location.and_then(|location| {
            let (latitude, longitude) = (location.latitude?, location.longitude?);
            let valid = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
            valid.then(|| Place {
                latitude,
                longitude,
                accuracy_km: f64::from(location.accuracy_radius.unwrap_or(0)),
            })
        });

        Located { country, place }
    }
}
