//! What a client registration must satisfy, checked in one place for the command line and
//! the admin API alike. Every offending field is reported, each by the JSON Pointer
//! (RFC 6901) of its member in the admin API's body (`/redirect_uris/2`), so an operator
//! fixes them all in one go.
//!
//! Enforces, in order:
//! 1. a name, printable and of sensible length;
//! 2. known grant types (RFC 6749 §4), refresh only with codes (§1.5), client credentials
//!    only for confidential clients (§4.4);
//! 3. redirect URIs as RFC 6749 §3.1.2 and RFC 8252 §7 allow ([`RedirectUri::register`]),
//!    at least one when codes are used; post-logout URIs likewise;
//! 4. URIs Tessera calls (`backchannel_logout_uri`, `jwks_uri`): https or loopback http;
//! 5. keys for `private_key_jwt` (OIDC Core §9): public RSA or EC keys, RSA of 2048 bits;
//! 6. a supported ID token algorithm; a well-formed scope without unknown admin scopes;
//! 7. positive token lifetimes, the idle one within the absolute one.

use tessera_protocol::admin::{AdminScope, FieldError};
use tessera_protocol::scope::Scope;
use tessera_protocol::types::RedirectUri;
use tessera_store::{
    NewClient, StoreError, Tx, DEFAULT_REFRESH_TOKEN_IDLE_TTL, DEFAULT_REFRESH_TOKEN_TTL,
};

use crate::client_auth::methods;
use crate::keys::Alg;
use crate::mfa::MfaPolicy;
use crate::secret::RandomSecret;

#[derive(Default)]
pub struct NewClientRequest<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub public: bool,
    pub first_party: bool,
    pub id_token_alg: &'a str,
    pub scope: &'a str,
    /// Grant types the client may use; see [`GRANT_TYPES`].
    pub grant_types: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub backchannel_logout_uri: Option<&'a str>,
    /// An inline JWK set (JSON) of public keys; registers the client for
    /// `private_key_jwt` (OIDC Core §9), with no secret.
    pub jwks: Option<&'a str>,
    /// Where the client publishes its JWK set; registers it for `private_key_jwt`.
    pub jwks_uri: Option<&'a str>,
    /// Whether logins need a second factor; `None` leaves it to `mfa_default`.
    pub mfa: Option<MfaPolicy>,
    /// Refresh-token lifetimes, seconds; `None` for the defaults (30 days, 14 days idle).
    pub refresh_token_ttl: Option<i64>,
    pub refresh_token_idle_ttl: Option<i64>,
    /// Access-token lifetime, seconds; `None` for the provider's `access_token_ttl`.
    pub access_token_ttl: Option<i64>,
}

/// Grant types a client can be registered for.
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// The longest name accepted, in characters.
pub const MAX_NAME_LENGTH: usize = 200;
/// The most URIs of one kind a client may register.
pub const MAX_URIS: usize = 100;
/// The longest access-token lifetime accepted: a day. Longer-lived access needs refresh
/// tokens, which can be revoked and rotate.
pub const MAX_ACCESS_TOKEN_TTL: i64 = 24 * 3600;
/// The longest refresh-token lifetime accepted: a year.
pub const MAX_REFRESH_TOKEN_TTL: i64 = 365 * 24 * 3600;

/// A registration that passed every check, with what the checks decided.
#[derive(Debug)]
pub struct Registration {
    /// How the client will authenticate (RFC 7591 §2 `token_endpoint_auth_method`).
    pub auth_method: &'static str,
    pub scope: Scope,
    pub refresh_token_ttl: i64,
    pub refresh_token_idle_ttl: i64,
}

/// A created client; the secret exists only here, and only for confidential clients.
pub struct CreatedClient {
    pub client_id: String,
    pub client_secret: Option<RandomSecret>,
}

/// Checks `request`; every offending field is named.
pub fn validate(request: &NewClientRequest<'_>) -> Result<Registration, Vec<FieldError>> {
    let mut errors = Vec::new();

    // Step 1.
    check_name(request.name, &mut errors);

    // Step 2.
    check_grants(request, &mut errors);

    // Step 3.
    check_redirect_uris(request, &mut errors);

    // Step 4.
    if let Some(uri) = request.backchannel_logout_uri {
        if let Err(reason) = check_secure_uri(uri) {
            errors.push(FieldError::new(
                "/backchannel_logout_uri",
                reason.to_string(),
            ));
        }
    }

    // Step 5 (and step 4 for `jwks_uri`).
    let auth_method = match key_registration(request) {
        Ok(method) => Some(method),
        Err(error) => {
            errors.push(error);
            None
        }
    };

    // Step 6.
    if Alg::parse(request.id_token_alg).is_none() {
        errors.push(FieldError::new(
            "/id_token_signed_response_alg",
            "unsupported ID token algorithm: use RS256 or ES256",
        ));
    }
    let scope = check_scope(request.scope, &mut errors);

    // Step 7.
    let (refresh_token_ttl, refresh_token_idle_ttl) = check_lifetimes(request, &mut errors);

    match (auth_method, scope) {
        (Some(auth_method), Some(scope)) if errors.is_empty() => Ok(Registration {
            auth_method,
            scope,
            refresh_token_ttl,
            refresh_token_idle_ttl,
        }),
        _ => Err(errors),
    }
}

fn check_name(name: &str, errors: &mut Vec<FieldError>) {
    if name.trim().is_empty() {
        errors.push(FieldError::new("/name", "must not be empty"));
    } else if name.chars().count() > MAX_NAME_LENGTH {
        errors.push(FieldError::new("/name", "must be at most 200 characters"));
    } else if name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "/name",
            "must not contain control characters",
        ));
    }
}

fn check_grants(request: &NewClientRequest<'_>, errors: &mut Vec<FieldError>) {
    if request.grant_types.is_empty() {
        errors.push(FieldError::new(
            "/grant_types",
            "name at least one grant type: authorization_code, refresh_token or \
             client_credentials",
        ));
    }
    for (i, grant) in request.grant_types.iter().enumerate() {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            errors.push(FieldError::new(
                format!("/grant_types/{i}"),
                "unknown grant type: use authorization_code, refresh_token or \
                 client_credentials",
            ));
        }
    }

    // RFC 6749 §1.5: a refresh token comes with an authorization grant, here a code; a
    // client registered for refresh alone could never obtain one.
    let uses_code = request.uses("authorization_code");
    if let Some(i) = request.position("refresh_token") {
        if !uses_code {
            errors.push(FieldError::new(
                format!("/grant_types/{i}"),
                "the refresh_token grant needs authorization_code too: refresh tokens are \
                 issued with codes (RFC 6749 §1.5)",
            ));
        }
    }

    // RFC 6749 §4.4: only confidential clients may use the client credentials grant.
    if let Some(i) = request.position("client_credentials") {
        if request.public {
            errors.push(FieldError::new(
                format!("/grant_types/{i}"),
                "a public client cannot use the client_credentials grant (RFC 6749 §4.4)",
            ));
        }
    }
}

impl NewClientRequest<'_> {
    fn position(&self, grant: &str) -> Option<usize> {
        self.grant_types.iter().position(|g| g == grant)
    }

    fn uses(&self, grant: &str) -> bool {
        self.position(grant).is_some()
    }
}

fn check_redirect_uris(request: &NewClientRequest<'_>, errors: &mut Vec<FieldError>) {
    if request.uses("authorization_code") && request.redirect_uris.is_empty() {
        errors.push(FieldError::new(
            "/redirect_uris",
            "at least one redirect URI is required for the authorization_code grant",
        ));
    }
    let lists = [
        ("redirect_uris", request.redirect_uris),
        (
            "post_logout_redirect_uris",
            request.post_logout_redirect_uris,
        ),
    ];
    for (name, uris) in lists {
        if uris.len() > MAX_URIS {
            errors.push(FieldError::new(
                format!("/{name}"),
                "at most 100 URIs may be registered",
            ));
            continue;
        }
        for (i, uri) in uris.iter().enumerate() {
            if let Err(reason) = RedirectUri::register(uri) {
                errors.push(FieldError::new(format!("/{name}/{i}"), reason.to_string()));
            }
        }
        // Registered URIs are compared as exact strings (RFC 6749 §3.1.2.3), so a repeat
        // adds nothing but a second entry to remove when the URI is retired.
        for (i, uri) in uris.iter().enumerate() {
            if uris[..i].contains(uri) {
                errors.push(FieldError::new(
                    format!("/{name}/{i}"),
                    "repeats an earlier URI of the list",
                ));
            }
        }
    }
}

fn check_scope(scope: &str, errors: &mut Vec<FieldError>) -> Option<Scope> {
    let Ok(scope) = Scope::parse(scope) else {
        errors.push(FieldError::new(
            "/scope",
            "malformed scope: space-separated tokens of printable ASCII (RFC 6749 §3.3)",
        ));
        return None;
    };
    // A misspelt admin scope would be registered, granted and then mean nothing; refuse it.
    if let Some(unknown) = scope
        .iter()
        .find(|s| AdminScope::is_admin(s) && AdminScope::parse(s).is_none())
    {
        let known: Vec<&str> = AdminScope::ALL.iter().map(|s| s.as_str()).collect();
        errors.push(FieldError::new(
            "/scope",
            format!(
                "unknown admin scope {unknown:?}: the admin scopes are {}",
                known.join(", ")
            ),
        ));
        return None;
    }
    Some(scope)
}

fn check_lifetimes(request: &NewClientRequest<'_>, errors: &mut Vec<FieldError>) -> (i64, i64) {
    let ttl = request
        .refresh_token_ttl
        .unwrap_or(DEFAULT_REFRESH_TOKEN_TTL);
    // Left out, the idle lifetime is the default one, cut to a shorter absolute lifetime.
    let default_idle = match ttl {
        1.. => DEFAULT_REFRESH_TOKEN_IDLE_TTL.min(ttl),
        _ => DEFAULT_REFRESH_TOKEN_IDLE_TTL,
    };
    let idle = request.refresh_token_idle_ttl.unwrap_or(default_idle);
    let ttl_ok = in_range("/refresh_token_ttl", ttl, MAX_REFRESH_TOKEN_TTL, errors);
    let idle_ok = in_range(
        "/refresh_token_idle_ttl",
        idle,
        MAX_REFRESH_TOKEN_TTL,
        errors,
    );
    if ttl_ok && idle_ok && idle > ttl {
        errors.push(FieldError::new(
            "/refresh_token_idle_ttl",
            "must not exceed refresh_token_ttl",
        ));
    }
    if let Some(access) = request.access_token_ttl {
        in_range("/access_token_ttl", access, MAX_ACCESS_TOKEN_TTL, errors);
    }
    (ttl, idle)
}

/// Whether `value` (seconds) lies in 1..=`max`; records why not.
fn in_range(field: &str, value: i64, max: i64, errors: &mut Vec<FieldError>) -> bool {
    let ok = (1..=max).contains(&value);
    if !ok {
        errors.push(FieldError::new(
            field,
            format!("must be between 1 and {max} seconds"),
        ));
    }
    ok
}

/// Inserts a validated registration under a new random id, with a new secret when the
/// client authenticates with one. The caller records the audit event and commits.
pub(crate) async fn insert(
    tx: &mut Tx,
    request: &NewClientRequest<'_>,
    registration: &Registration,
    now: i64,
) -> Result<CreatedClient, StoreError> {
    let client_id = RandomSecret::generate().expose()[..22].to_string();
    let secret =
        (registration.auth_method == methods::CLIENT_SECRET_BASIC).then(RandomSecret::generate);
    let secret_hash = secret.as_ref().map(RandomSecret::digest);

    let scope = registration.scope.to_string();
    let hash = secret_hash.as_ref().map(|h| h.as_slice());
    tx.insert_client(
        &stored(&client_id, request, registration, &scope, hash),
        now,
    )
    .await?;
    Ok(CreatedClient {
        client_id,
        client_secret: secret,
    })
}

/// The stored form of a validated registration under `id`; `scope` is the registration's
/// scope as text. An update leaves `secret_hash` and the authentication method as stored.
pub(crate) fn stored<'a>(
    id: &'a str,
    request: &NewClientRequest<'a>,
    registration: &Registration,
    scope: &'a str,
    secret_hash: Option<&'a [u8]>,
) -> NewClient<'a> {
    NewClient {
        id,
        name: request.name,
        secret_hash,
        redirect_uris: request.redirect_uris,
        allowed_scope: scope,
        id_token_alg: request.id_token_alg,
        first_party: request.first_party,
        grant_types: request.grant_types,
        jwks: request.jwks,
        jwks_uri: request.jwks_uri,
        post_logout_redirect_uris: request.post_logout_redirect_uris,
        backchannel_logout_uri: request.backchannel_logout_uri,
        refresh_token_ttl: registration.refresh_token_ttl,
        refresh_token_idle_ttl: registration.refresh_token_idle_ttl,
        access_token_ttl: request.access_token_ttl,
        token_endpoint_auth_method: registration.auth_method,
        mfa: request.mfa.map_or("default", MfaPolicy::as_str),
    }
}

/// Why a URI Tessera will call (a `jwks_uri`, a `backchannel_logout_uri`) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UriRefusal {
    #[error("is not an absolute URL")]
    Malformed,
    /// Back-Channel Logout 1.0 §2.2 forbids a fragment in `backchannel_logout_uri`, and a
    /// fragment is never sent to a server, so it can only be a mistake in a `jwks_uri`.
    #[error("must not have a fragment (#...)")]
    Fragment,
    #[error("must be https, or http on a loopback address")]
    Scheme,
}

/// `https`, or `http` on a loopback address; no fragment. Each rule has its own reason, so
/// that the operator is told which one the URI broke.
fn check_secure_uri(uri: &str) -> Result<(), UriRefusal> {
    let url = url::Url::parse(uri).map_err(|_| UriRefusal::Malformed)?;

    if url.fragment().is_some() {
        return Err(UriRefusal::Fragment);
    }

    let loopback_http = url.scheme() == "http" && tessera_protocol::types::is_loopback(&url);
    if url.scheme() != "https" && !loopback_http {
        return Err(UriRefusal::Scheme);
    }
    Ok(())
}

/// Smallest RSA modulus accepted, bits: RFC 7518 §3.3 requires 2048 or more for RS256 (and
/// §3.5 for PS256). A shorter key could be registered but never verify an assertion.
const MIN_RSA_BITS: usize = 2048;

/// The length in bits of an RSA JWK's modulus `n` (RFC 7518 §6.3.1.1), leading zero
/// octets ignored; `None` when `n` is missing or not base64url.
fn rsa_modulus_bits(key: &josekit::jwk::Jwk) -> Option<usize> {
    use base64::Engine;

    let n = key.parameter("n")?.as_str()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n)
        .ok()?;
    let start = bytes.iter().position(|b| *b != 0)?;
    let significant = &bytes[start..];
    let top_bits = 8 - significant.first()?.leading_zeros() as usize;
    Some((significant.len() - 1) * 8 + top_bits)
}

/// Parameters of a JWK that belong to a private or symmetric key (RFC 7518 §6.2.2, §6.3.2,
/// §6.4.1): a registration holds public keys only.
const PRIVATE_JWK_PARAMS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// The token endpoint method the request registers (RFC 7591 §2), checking its keys.
fn key_registration(request: &NewClientRequest<'_>) -> Result<&'static str, FieldError> {
    let has_keys = request.jwks.is_some() || request.jwks_uri.is_some();
    if !has_keys {
        return Ok(if request.public {
            methods::NONE
        } else {
            methods::CLIENT_SECRET_BASIC
        });
    }

    if request.jwks.is_some() && request.jwks_uri.is_some() {
        return Err(FieldError::new(
            "/jwks_uri",
            "give either an inline JWKS or a jwks_uri, not both",
        ));
    }

    if request.public {
        let field = if request.jwks.is_some() {
            "/jwks"
        } else {
            "/jwks_uri"
        };
        return Err(FieldError::new(
            field,
            "a public client cannot register keys: private_key_jwt is for confidential clients",
        ));
    }

    if let Some(uri) = request.jwks_uri {
        check_secure_uri(uri).map_err(|reason| FieldError::new("/jwks_uri", reason.to_string()))?;
    }

    if let Some(jwks) = request.jwks {
        check_jwks(jwks)
            .map_err(|reason| FieldError::new("/jwks", format!("the JWKS is invalid: {reason}")))?;
    }

    Ok(methods::PRIVATE_KEY_JWT)
}

/// A set of public RSA or EC keys, RSA ones long enough.
fn check_jwks(jwks: &str) -> Result<(), &'static str> {
    let set = josekit::jwk::JwkSet::from_bytes(jwks).map_err(|_| "not a JSON JWK set")?;
    if set.keys().is_empty() {
        return Err("it has no keys");
    }
    for key in set.keys() {
        if !matches!(key.key_type(), "RSA" | "EC") {
            return Err("only RSA and EC keys are accepted");
        }
        if PRIVATE_JWK_PARAMS
            .iter()
            .any(|p| key.parameter(p).is_some())
        {
            return Err("it contains a private key");
        }
        if key.key_type() == "RSA" && rsa_modulus_bits(key).is_none_or(|bits| bits < MIN_RSA_BITS) {
            return Err("an RSA key is shorter than 2048 bits (RFC 7518 §3.3)");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
