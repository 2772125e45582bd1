//! Dates as the hosted pages print them: UTC, numeric, needing no time zone or locale.

/// A Unix time's UTC date, `YYYY-MM-DD`: the day is as precise as the page needs, and
/// needs no time zone.
pub(super) fn utc_date(unix: i64) -> String {
    let (year, month, day) = civil_date(unix.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date `days` after 1970-01-01. The calendar is counted in
/// 400-year eras of 146097 days starting on 1 March, so that the leap day falls at the end
/// of each year of the count.
fn civil_date(days: i64) -> (i64, u32, u32) {
    // Days since 0000-03-01, then the era and the day within it.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    // Years within the era: 365 days each, less the leap days of every 4th, 100th and 400th.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March: 153 days for each five months (31, 30, 31, 30, 31).
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    // Both fit: 1 <= day <= 31, 1 <= month <= 12.
    (year, month as u32, day as u32)
}

/// A Unix time's UTC date and minute, `YYYY-MM-DD HH:MM UTC`: for what a person compares
/// within a day, such as when a session started and when it expires.
pub(super) fn utc_time(unix: i64) -> String {
    let seconds_of_day = unix.rem_euclid(86_400);
    let (hour, minute) = (seconds_of_day / 3600, seconds_of_day % 3600 / 60);
    format!("{} {hour:02}:{minute:02} UTC", utc_date(unix))
}
