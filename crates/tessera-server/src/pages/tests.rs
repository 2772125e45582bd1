use super::dates::{utc_date, utc_time};

/// Dates of well-known instants: the epoch, the second before it, a leap day of a year
/// divisible by 400, the billionth second, the last second of 2024's leap day, the last
/// second a four-digit year holds.
#[test]
fn utc_dates_follow_the_gregorian_calendar() {
    assert_eq!(utc_date(0), "1970-01-01");
    assert_eq!(utc_date(-1), "1969-12-31");
    assert_eq!(utc_date(951_782_400), "2000-02-29");
    assert_eq!(utc_date(1_000_000_000), "2001-09-09");
    assert_eq!(utc_date(1_709_251_199), "2024-02-29");
    assert_eq!(utc_date(253_402_300_799), "9999-12-31");
}

/// The same instants to the minute: midnight, the minute before it, and 01:46:40 on the
/// billionth second.
#[test]
fn utc_times_add_the_hour_and_minute() {
    assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc_time(-60), "1969-12-31 23:59 UTC");
    assert_eq!(utc_time(1_000_000_000), "2001-09-09 01:46 UTC");
}
