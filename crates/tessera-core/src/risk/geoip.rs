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
    /// The English names of the city and the country, where the database has them, for
    /// people to recognise where a device was; scoring never reads them.
    pub city_name: Option<String>,
    pub country_name: Option<String>,
}

impl Located {
    /// "Lyon, France", "France", or the country code alone: roughly where, in words.
    pub fn in_words(&self) -> Option<String> {
        let country = self.country_name.as_ref().or(self.country.as_ref())?;
        Some(match &self.city_name {
            Some(city) => format!("{city}, {country}"),
            None => country.clone(),
        })
    }
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
    #[serde(borrow, default)]
    city: Option<CityRecord<'a>>,
}

#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(default)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

/// Names by language; only English is read.
#[derive(Deserialize)]
struct Names<'a> {
    #[serde(default)]
    en: Option<&'a str>,
}

/// A name fit to show on a page: printable, and not absurdly long.
fn shown(names: Option<Names<'_>>) -> Option<String> {
    let name = names?.en?;
    let fit = !name.is_empty() && name.len() <= 100 && !name.chars().any(char::is_control);
    fit.then(|| name.to_string())
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

        // The country the address is in, else the one its network is registered in.
        let country_record = match record.country {
            Some(found) if found.iso_code.is_some() => Some(found),
            _ => record.registered_country,
        };
        let country = country_record
            .as_ref()
            .and_then(|c| c.iso_code)
            .filter(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
            .map(str::to_string);
        let country_name = country_record.and_then(|c| shown(c.names));
        let city_name = record.city.and_then(|c| shown(c.names));

        let place = record.location.and_then(|location| {
            let (latitude, longitude) = (location.latitude?, location.longitude?);
            let valid = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
            valid.then(|| Place {
                latitude,
                longitude,
                accuracy_km: f64::from(location.accuracy_radius.unwrap_or(0)),
            })
        });

        Located {
            country,
            place,
            city_name,
            country_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Located;

    fn located(city: Option<&str>, country_name: Option<&str>, code: Option<&str>) -> Located {
        Located {
            country: code.map(str::to_string),
            place: None,
            city_name: city.map(str::to_string),
            country_name: country_name.map(str::to_string),
        }
    }

    #[test]
    fn a_location_in_words_is_city_and_country_or_what_is_known() {
        let lyon = located(Some("Lyon"), Some("France"), Some("FR"));
        assert_eq!(lyon.in_words().as_deref(), Some("Lyon, France"));
        let france = located(None, Some("France"), Some("FR"));
        assert_eq!(france.in_words().as_deref(), Some("France"));
        let coded = located(Some("Lyon"), None, Some("FR"));
        assert_eq!(coded.in_words().as_deref(), Some("Lyon, FR"));
        assert_eq!(located(Some("Lyon"), None, None).in_words(), None);
    }
}
