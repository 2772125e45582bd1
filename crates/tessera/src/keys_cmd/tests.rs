use super::*;

#[test]
fn times_print_as_rfc_3339_utc() {
    assert_eq!(utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(utc(1_800_000_000), "2027-01-15T08:00:00Z");
}
