//! The claims of a client assertion for `private_key_jwt` (RFC 7523 §3; OIDC Core §9).
//!
//! Enforces, one check per numbered item of RFC 7523 §3: `iss` and `sub` are the client;
//! `aud` names this authorization server; `exp` is present, in the future and not too
//! far in it; `nbf` and `iat` are not in the future; `jti` is present. The signature, the
//! algorithm's key and the single use of `jti` are checked by the domain, which has the
//! keys and the database; this module only reads claims that are already verified.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// The assertion type of RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Algorithms accepted for assertions: asymmetric only. `none` and the HMAC family are
/// never accepted (RFC 8725 §3.1, §3.2): an HMAC "signature" keyed with a client's public
/// key could be made by anyone who has read that key.
pub const SIGNING_ALGS: [&str; 3] = ["RS256", "ES256", "PS256"];

/// Clock skew tolerated on `exp`, `nbf` and `iat`, seconds.
pub const LEEWAY: i64 = 30;

/// Longest accepted time from now to `exp`, seconds. RFC 7523 §3, item 4 lets the server
/// refuse assertions that expire unreasonably far in the future; short ones also bound
/// how long their `jti` must be remembered.
pub const MAX_LIFETIME: i64 = 300;

/// Longest accepted `jti`, so that the replay table cannot be used to store data.
pub const MAX_JTI_LEN: usize = 256;

/// Why an assertion was refused. The client only ever sees `invalid_client`; this is for
/// the audit trail, and holds no part of the assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionError {
    Alg,
    Issuer,
    Subject,
    Audience,
    MissingExpiry,
    Expired,
    TooLongLived,
    NotYetValid,
    IssuedInFuture,
    MissingJti,
}

impl AssertionError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Alg => "assertion_alg_not_allowed",
            Self::Issuer => "assertion_iss_mismatch",
            Self::Subject => "assertion_sub_mismatch",
            Self::Audience => "assertion_aud_mismatch",
            Self::MissingExpiry => "assertion_exp_missing",
            Self::Expired => "assertion_expired",
            Self::TooLongLived => "assertion_exp_too_far",
            Self::NotYetValid => "assertion_not_yet_valid",
            Self::IssuedInFuture => "assertion_iat_in_future",
            Self::MissingJti => "assertion_jti_missing",
        }
    }
}

/// What the checks need to know besides the claims.
#[derive(Debug)]
pub struct AssertionRules<'a> {
    pub client_id: &'a str,
    /// Accepted audiences: the token endpoint URL (OIDC Core §9 says the audience SHOULD
    /// be it) and the issuer identifier (RFC 7523 §3, item 3 allows the authorization
    /// server's identifier). Either, alone or in an array, is accepted.
    pub audiences: [&'a str; 2],
    pub now: i64,
}

/// The parts of a valid assertion the domain still needs.
#[derive(Debug, PartialEq, Eq)]
pub struct ValidAssertion {
    pub jti: String,
    pub exp: i64,
}

/// The JOSE header's `alg` must be one of [`SIGNING_ALGS`], spelled exactly.
pub fn check_alg(alg: Option<&str>) -> Result<(), AssertionError> {
    match alg {
        Some(alg) if SIGNING_ALGS.contains(&alg) => Ok(()),
        _ => Err(AssertionError::Alg),
    }
}

/// Checks the claims of an assertion whose signature was verified.
pub fn check_claims(
    claims: &Map<String, Value>,
    rules: &AssertionRules<'_>,
) -> Result<ValidAssertion, AssertionError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(numeric_date);

    // RFC 7523 §3, item 1: the issuer is the client (OIDC Core §9: iss = client_id).
    if text("iss") != Some(rules.client_id) {
        return Err(AssertionError::Issuer);
    }

    // RFC 7523 §3, item 2.B: for client authentication the subject is the client_id.
    if text("sub") != Some(rules.client_id) {
        return Err(AssertionError::Subject);
    }

    // RFC 7523 §3, item 3: the audience identifies this authorization server.
    if !audience_matches(claims.get("aud"), &rules.audiences) {
        return Err(AssertionError::Audience);
    }

    // RFC 7523 §3, item 4: exp is required, and the JWT is refused once it has passed.
    let Some(exp) = number("exp") else {
        return Err(AssertionError::MissingExpiry);
    };
    if exp + LEEWAY <= rules.now {
        return Err(AssertionError::Expired);
    }

    // RFC 7523 §3, item 4 (unreasonably far in the future), as a lifetime policy.
    if exp > rules.now + MAX_LIFETIME + LEEWAY {
        return Err(AssertionError::TooLongLived);
    }

    // RFC 7523 §3, item 5: not before nbf.
    if number("nbf").is_some_and(|nbf| nbf > rules.now + LEEWAY) {
        return Err(AssertionError::NotYetValid);
    }

    // RFC 7523 §3, item 6: iat, when present, is not in the future.
    if number("iat").is_some_and(|iat| iat > rules.now + LEEWAY) {
        return Err(AssertionError::IssuedInFuture);
    }

    // RFC 7523 §3, item 7 and OIDC Core §9: jti is required, so that it can be used once.
    let jti = match text("jti") {
        Some(jti) if !jti.is_empty() && jti.len() <= MAX_JTI_LEN => jti.to_string(),
        _ => return Err(AssertionError::MissingJti),
    };

    Ok(ValidAssertion { jti, exp })
}

/// A NumericDate: any JSON number of seconds, not only an integer (RFC 7519 §2). A
/// fraction is dropped, so that a time is never taken as later than it is written.
fn numeric_date(value: &Value) -> Option<i64> {
    if let Some(whole) = value.as_i64() {
        return Some(whole);
    }
    // Saturating cast: a date past i64's range is as unusable as i64::MAX.
    value
        .as_f64()
        .filter(|f| f.is_finite())
        .map(|f| f.floor() as i64)
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3); one of them must match.
fn audience_matches(aud: Option<&Value>, accepted: &[&str]) -> bool {
    match aud {
        Some(Value::String(one)) => accepted.contains(&one.as_str()),
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(Value::as_str)
            .any(|one| accepted.contains(&one)),
        _ => false,
    }
}

/// The claims of a compact JWS, read without checking anything. Only for choosing which
/// client's keys to verify it with, never for a decision.
pub fn unverified_claims(jwt: &str) -> Option<Map<String, Value>> {
    let mut parts = jwt.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
