use serde_json::json;

use super::*;

const NOW: i64 = 1_800_000_000;
const TOKEN_ENDPOINT: &str = "https://op.example/token";
const ISSUER: &str = "https://op.example";

fn rules() -> AssertionRules<'static> {
    AssertionRules {
        client_id: "app",
        audiences: [TOKEN_ENDPOINT, ISSUER],
        now: NOW,
    }
}

fn claims(changes: Value) -> Map<String, Value> {
    let mut base = json!({
        "iss": "app",
        "sub": "app",
        "aud": "https://op.example/token",
        "exp": NOW + 60,
        "iat": NOW,
        "jti": "a1b2c3",
    });
    if let (Value::Object(base), Value::Object(changes)) = (&mut base, changes) {
        for (name, value) in changes {
            if value.is_null() {
                base.remove(&name);
            } else {
                base.insert(name, value);
            }
        }
    }
    match base {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[test]
fn a_well_formed_assertion_is_accepted() {
    let valid = check_claims(&claims(json!({})), &rules()).unwrap();
    assert_eq!(
        valid,
        ValidAssertion {
            jti: "a1b2c3".into(),
            exp: NOW + 60
        }
    );
}

#[test]
fn the_issuer_or_an_array_with_it_is_an_accepted_audience() {
    for aud in [
        json!("https://op.example"),
        json!(["x", "https://op.example/token"]),
    ] {
        assert!(check_claims(&claims(json!({ "aud": aud })), &rules()).is_ok());
    }
}

#[test]
fn each_rule_refuses_on_its_own() {
    let cases = [
        (json!({ "iss": "other" }), AssertionError::Issuer),
        (json!({ "sub": "other" }), AssertionError::Subject),
        (
            json!({ "aud": "https://op.example/authorize" }),
            AssertionError::Audience,
        ),
        (
            json!({ "aud": "https://op.example/token/" }),
            AssertionError::Audience,
        ),
        (json!({ "aud": null }), AssertionError::Audience),
        (json!({ "exp": null }), AssertionError::MissingExpiry),
        (json!({ "exp": NOW - LEEWAY }), AssertionError::Expired),
        (json!({ "exp": NOW + 3600 }), AssertionError::TooLongLived),
        (json!({ "nbf": NOW + 120 }), AssertionError::NotYetValid),
        (json!({ "iat": NOW + 120 }), AssertionError::IssuedInFuture),
        (json!({ "jti": null }), AssertionError::MissingJti),
        (json!({ "jti": "" }), AssertionError::MissingJti),
    ];
    for (changes, expected) in cases {
        let label = changes.to_string();
        assert_eq!(
            check_claims(&claims(changes), &rules()),
            Err(expected),
            "{label}"
        );
    }
}

#[test]
fn a_little_clock_skew_is_tolerated() {
    let skewed = json!({ "exp": NOW - 5, "iat": NOW + 5, "nbf": NOW + 5 });
    assert!(check_claims(&claims(skewed), &rules()).is_ok());
}

#[test]
fn only_asymmetric_algorithms_are_accepted() {
    for alg in ["RS256", "ES256", "PS256"] {
        assert_eq!(check_alg(Some(alg)), Ok(()));
    }
    for alg in [
        None,
        Some("none"),
        Some("HS256"),
        Some("rs256"),
        Some("RS512"),
    ] {
        assert_eq!(check_alg(alg), Err(AssertionError::Alg), "{alg:?}");
    }
}

/// RFC 7519 §2: a NumericDate may be a non-integer number of seconds.
#[test]
fn non_integer_numeric_dates_are_read_and_floored() {
    let fractional = json!({
        "exp": 1_800_000_060.5,
        "iat": 1_799_999_999.75,
        "nbf": 1_799_999_999.25,
    });
    let valid = check_claims(&claims(fractional), &rules()).unwrap();
    assert_eq!(valid.exp, 1_800_000_060);

    let expired = json!({ "exp": 1_799_999_970.9 });
    assert_eq!(
        check_claims(&claims(expired), &rules()),
        Err(AssertionError::Expired)
    );
}
