use super::utc_date;

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
