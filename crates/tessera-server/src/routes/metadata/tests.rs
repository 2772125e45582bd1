use super::*;

const TAG: &str = "\"q1w2e3\"";

fn with(values: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
    }
    headers
}

#[test]
fn if_none_match_follows_rfc_9110_13_1_2() {
    assert!(if_none_match(&with(&[TAG]), TAG));
    assert!(if_none_match(&with(&["*"]), TAG));
    assert!(if_none_match(&with(&["\"other\", \"q1w2e3\""]), TAG));
    assert!(if_none_match(&with(&["\"other\"", TAG]), TAG));
    // Weak comparison: an intermediary may have weakened our tag.
    assert!(if_none_match(&with(&["W/\"q1w2e3\""]), TAG));

    assert!(!if_none_match(&with(&[]), TAG));
    assert!(!if_none_match(&with(&["\"other\""]), TAG));
    assert!(!if_none_match(&with(&["q1w2e3"]), TAG));
}
