//! Creating users and clients, as the command line (and later the admin API) does.

use secrecy::SecretString;
use serde_json::json;
use tessera_protocol::admin::AdminScope;
use tessera_protocol::scope::Scope;
use tessera_protocol::types::RedirectUri;
use tessera_store::{
    AuditEvent, NewClient, NewUser, Outcome, Revoked, Store, StoreError, Tx,
    DEFAULT_REFRESH_TOKEN_IDLE_TTL, DEFAULT_REFRESH_TOKEN_TTL,
};

use crate::backchannel::LogoutNotices;
use crate::client_auth::methods;
use crate::keys::Alg;
use crate::mfa::MfaPolicy;
use crate::password::PasswordHasher;
use crate::password_policy::{PasswordPolicy, PasswordRefusal};
use crate::secret::RandomSecret;
use crate::username::{username_key, UsernameError};
use crate::{Provider, ProviderError};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("username: {0}")]
    Username(#[from] UsernameError),
    #[error("that username is taken")]
    UsernameTaken,
    #[error("no such user")]
    NoSuchUser,
    #[error("{0}")]
    Provider(#[from] ProviderError),
    #[error("no such client")]
    NoSuchClient,
    #[error("{0}")]
    PasswordRefused(#[from] PasswordRefusal),
    #[error("redirect URI {uri:?} {reason}")]
    RedirectUri {
        uri: String,
        reason: tessera_protocol::types::RedirectUriError,
    },
    #[error("at least one redirect URI is required for the authorization_code grant")]
    NoRedirectUri,
    #[error(
        "unknown grant type {0:?}: use authorization_code, refresh_token or client_credentials"
    )]
    GrantType(String),
    #[error(
        "the refresh_token grant needs authorization_code too: refresh tokens are issued \
         with codes (RFC 6749 §1.5); pass --grant-type for each grant"
    )]
    RefreshWithoutCode,
    #[error("a public client cannot use the client_credentials grant (RFC 6749 §4.4)")]
    PublicClientCredentials,
    #[error("backchannel logout URI {uri:?} {reason}")]
    BackchannelLogoutUri { uri: String, reason: UriRefusal },
    #[error("jwks_uri {uri:?} {reason}")]
    JwksUri { uri: String, reason: UriRefusal },
    #[error("give either an inline JWKS or a jwks_uri, not both")]
    JwksTwice,
    #[error("a public client cannot register keys: private_key_jwt is for confidential clients")]
    PublicClientKeys,
    #[error("the JWKS is invalid: {0}")]
    Jwks(&'static str),
    #[error("unsupported ID token algorithm {0:?}: use RS256 or ES256")]
    Alg(String),
    #[error("scope is malformed")]
    Scope,
    #[error(
        "unknown admin scope {0:?}: the admin scopes are admin:users:read, admin:users:write, \
         admin:clients:read, admin:clients:write, admin:keys:read, admin:keys:write, \
         admin:audit:read, admin:roles:write"
    )]
    UnknownAdminScope(String),
    #[error(
        "unknown role {0:?}: the roles are admin, user-admin, client-admin, key-admin, auditor"
    )]
    UnknownRole(String),
    #[error("{0} already holds the admin role; use `tessera admin grant-role` for more admins")]
    AlreadyBootstrapped(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed")]
    Password(#[from] crate::password::PasswordError),
}

pub struct NewUserRequest<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub password: SecretString,
}

/// Creates a user and returns its subject identifier. The password must meet `policy`.
pub async fn create_user(
    store: &Store,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    request: NewUserRequest<'_>,
    now: i64,
) -> Result<String, AccountError> {
    let key = username_key(request.username)?;
    policy.check(&request.password)?;
    let hash = hasher.hash(request.password).await?;

    let mut tx = store.begin().await?;
    let user = NewUser {
        id: "",
        username: request.username,
        username_key: &key,
        email: request.email,
        display_name: request.display_name,
        password_hash: Some(&hash),
    };
    let id = insert_new_user(&mut tx, user, now)
        .await
        .map_err(|err| match err {
            StoreError::Conflict => AccountError::UsernameTaken,
            other => AccountError::Store(other),
        })?;
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "user.create",
        outcome: Outcome::Success,
        user_id: Some(id.clone()),
        detail: json!({ "via": "cli" }),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Stores a person under a new subject identifier, which it returns; `user.id` is ignored.
/// The username and password must have been checked already ([`username_key`],
/// [`PasswordPolicy::check`]); a taken username is [`StoreError::Conflict`].
pub(crate) async fn insert_new_user(
    tx: &mut Tx,
    user: NewUser<'_>,
    now: i64,
) -> Result<String, StoreError> {
    // A random UUID as `sub`: opaque, and never handed to anyone else (OIDC Core §2).
    let id = uuid::Uuid::new_v4().to_string();
    let user = NewUser { id: &id, ..user };
    tx.insert_user(&user, now).await?;
    Ok(id)
}

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
}

/// Grant types a client can be registered for.
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// A created client; the secret exists only here, and only for confidential clients.
pub struct CreatedClient {
    pub client_id: String,
    pub client_secret: Option<RandomSecret>,
}

pub async fn create_client(
    store: &Store,
    request: NewClientRequest<'_>,
    now: i64,
) -> Result<CreatedClient, AccountError> {
    for grant in request.grant_types {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            return Err(AccountError::GrantType(grant.clone()));
        }
    }
    let uses_code = request
        .grant_types
        .iter()
        .any(|g| g == "authorization_code");
    if uses_code && request.redirect_uris.is_empty() {
        return Err(AccountError::NoRedirectUri);
    }
    // RFC 6749 §1.5: a refresh token comes with an authorization grant, here a code; a
    // client registered for refresh alone could never obtain one.
    let uses_refresh = request.grant_types.iter().any(|g| g == "refresh_token");
    if uses_refresh && !uses_code {
        return Err(AccountError::RefreshWithoutCode);
    }
    // RFC 6749 §4.4: only confidential clients may use the client credentials grant.
    if request.public
        && request
            .grant_types
            .iter()
            .any(|g| g == "client_credentials")
    {
        return Err(AccountError::PublicClientCredentials);
    }
    for uri in request
        .redirect_uris
        .iter()
        .chain(request.post_logout_redirect_uris)
    {
        RedirectUri::register(uri).map_err(|reason| AccountError::RedirectUri {
            uri: uri.clone(),
            reason,
        })?;
    }
    if let Some(uri) = request.backchannel_logout_uri {
        check_secure_uri(uri).map_err(|reason| AccountError::BackchannelLogoutUri {
            uri: uri.to_string(),
            reason,
        })?;
    }
    let auth_method = key_registration(&request)?;
    if Alg::parse(request.id_token_alg).is_none() {
        return Err(AccountError::Alg(request.id_token_alg.to_string()));
    }
    let scope = Scope::parse(request.scope).map_err(|_| AccountError::Scope)?;
    // A misspelt admin scope would be registered, granted and then mean nothing; refuse it.
    if let Some(unknown) = scope
        .iter()
        .find(|s| AdminScope::is_admin(s) && AdminScope::parse(s).is_none())
    {
        return Err(AccountError::UnknownAdminScope(unknown.to_string()));
    }

    let client_id = RandomSecret::generate().expose()[..22].to_string();
    let secret = (auth_method == methods::CLIENT_SECRET_BASIC).then(RandomSecret::generate);
    let secret_hash = secret.as_ref().map(RandomSecret::digest);

    let mut tx = store.begin().await?;
    tx.insert_client(
        &NewClient {
            id: &client_id,
            name: request.name,
            secret_hash: secret_hash.as_ref().map(|h| h.as_slice()),
            redirect_uris: request.redirect_uris,
            allowed_scope: &scope.to_string(),
            id_token_alg: request.id_token_alg,
            first_party: request.first_party,
            grant_types: request.grant_types,
            jwks: request.jwks,
            jwks_uri: request.jwks_uri,
            post_logout_redirect_uris: request.post_logout_redirect_uris,
            backchannel_logout_uri: request.backchannel_logout_uri,
            refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL,
            refresh_token_idle_ttl: DEFAULT_REFRESH_TOKEN_IDLE_TTL,
            token_endpoint_auth_method: auth_method,
        },
        now,
    )
    .await?;
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "client.create",
        outcome: Outcome::Success,
        client_id: Some(client_id.clone()),
        detail: json!({ "via": "cli", "public": request.public, "auth_method": auth_method }),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(CreatedClient {
        client_id,
        client_secret: secret,
    })
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
fn key_registration(request: &NewClientRequest<'_>) -> Result<&'static str, AccountError> {
    let has_keys = request.jwks.is_some() || request.jwks_uri.is_some();
    if !has_keys {
        return Ok(if request.public {
            methods::NONE
        } else {
            methods::CLIENT_SECRET_BASIC
        });
    }

    if request.jwks.is_some() && request.jwks_uri.is_some() {
        return Err(AccountError::JwksTwice);
    }

    if request.public {
        return Err(AccountError::PublicClientKeys);
    }

    if let Some(uri) = request.jwks_uri {
        check_secure_uri(uri).map_err(|reason| AccountError::JwksUri {
            uri: uri.to_string(),
            reason,
        })?;
    }

    if let Some(jwks) = request.jwks {
        let set = josekit::jwk::JwkSet::from_bytes(jwks)
            .map_err(|_| AccountError::Jwks("not a JSON JWK set"))?;
        if set.keys().is_empty() {
            return Err(AccountError::Jwks("it has no keys"));
        }
        for key in set.keys() {
            if !matches!(key.key_type(), "RSA" | "EC") {
                return Err(AccountError::Jwks("only RSA and EC keys are accepted"));
            }
            if PRIVATE_JWK_PARAMS
                .iter()
                .any(|p| key.parameter(p).is_some())
            {
                return Err(AccountError::Jwks("it contains a private key"));
            }
            if key.key_type() == "RSA"
                && rsa_modulus_bits(key).is_none_or(|bits| bits < MIN_RSA_BITS)
            {
                return Err(AccountError::Jwks(
                    "an RSA key is shorter than 2048 bits (RFC 7518 §3.3)",
                ));
            }
        }
    }

    Ok(methods::PRIVATE_KEY_JWT)
}

/// Disables or re-enables an account, as an administrator does. Disabling revokes every
/// refresh and access token the person holds, in the transaction that disables them, so no
/// token outlives the decision; re-enabling brings none of them back. Returns what was
/// revoked.
pub async fn set_user_disabled(
    store: &Store,
    username: &str,
    disabled: bool,
    now: i64,
) -> Result<Revoked, AccountError> {
    disable(store, None, username, disabled, now).await
}

impl Provider {
    /// [`set_user_disabled`], and the apps the ended sessions served are sent back-channel
    /// logout tokens (Back-Channel Logout 1.0 §2.7), which needs the provider's keys.
    pub async fn set_user_disabled(
        &self,
        username: &str,
        disabled: bool,
        now: i64,
    ) -> Result<Revoked, AccountError> {
        disable(&self.inner.store, Some(self), username, disabled, now).await
    }

    /// [`reset_factors`], with back-channel logout tokens as [`Provider::set_user_disabled`].
    pub async fn reset_factors(&self, username: &str, now: i64) -> Result<Revoked, AccountError> {
        reset(&self.inner.store, Some(self), username, now).await
    }
}

/// The logout tokens owed for every session of `user_id`, when a provider can sign them.
async fn notices_for(
    store: &Store,
    provider: Option<&Provider>,
    user_id: &str,
    now: i64,
) -> Result<Option<LogoutNotices>, AccountError> {
    let Some(provider) = provider else {
        return Ok(None);
    };
    let sids = store.session_sids(user_id, None).await?;
    Ok(Some(provider.logout_notices(user_id, sids, now).await?))
}

async fn disable(
    store: &Store,
    provider: Option<&Provider>,
    username: &str,
    disabled: bool,
    now: i64,
) -> Result<Revoked, AccountError> {
    let key = username_key(username)?;
    let user = store
        .user_by_username_key(&key)
        .await?
        .ok_or(AccountError::NoSuchUser)?;
    let notices = match disabled {
        true => notices_for(store, provider, &user.id, now).await?,
        false => None,
    };

    let mut tx = store.begin().await?;
    tx.set_user_disabled(&user.id, disabled, now).await?;
    // A disabled person keeps nothing: tokens and browser sessions end now, so that
    // enabling the account later brings none of them back.
    let ended = if disabled {
        end_access(&mut tx, &user.id, notices.as_ref(), now).await?
    } else {
        Ended::default()
    };
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        outcome: Outcome::Success,
        user_id: Some(user.id.clone()),
        detail: ended.detail(),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(ended.revoked)
}

/// What ending a person's access took away.
#[derive(Default)]
pub(crate) struct Ended {
    pub revoked: Revoked,
    pub sessions: u64,
}

impl Ended {
    pub(crate) fn detail(&self) -> serde_json::Value {
        json!({
            "via": "cli",
            "revoked_refresh_tokens": self.revoked.refresh_tokens,
            "revoked_access_tokens": self.revoked.access_tokens,
            "ended_sessions": self.sessions,
        })
    }
}

/// Revokes every token a person holds, ends their browser sessions and the logins still
/// owing a second factor, within `tx`; queues `notices` for the ended sessions.
pub(crate) async fn end_access(
    tx: &mut Tx,
    user_id: &str,
    notices: Option<&LogoutNotices>,
    now: i64,
) -> Result<Ended, StoreError> {
    let revoked = tx.revoke_user_tokens(user_id, now).await?;
    let sessions = tx.delete_user_sessions(user_id).await?;
    tx.delete_pending_logins(user_id).await?;
    if let Some(notices) = notices {
        notices.queue(tx, now).await?;
    }
    Ok(Ended { revoked, sessions })
}

/// Removes every second factor of a person (their TOTP authenticator and recovery codes),
/// as an administrator does when the person lost them; revokes every token they hold and
/// ends their browser sessions, which the removed factors signed in, all in one
/// transaction. Their next login to a client that requires a factor enrols anew.
pub async fn reset_factors(
    store: &Store,
    username: &str,
    now: i64,
) -> Result<Revoked, AccountError> {
    reset(store, None, username, now).await
}

async fn reset(
    store: &Store,
    provider: Option<&Provider>,
    username: &str,
    now: i64,
) -> Result<Revoked, AccountError> {
    let key = username_key(username)?;
    let user = store
        .user_by_username_key(&key)
        .await?
        .ok_or(AccountError::NoSuchUser)?;
    let notices = notices_for(store, provider, &user.id, now).await?;

    let mut tx = store.begin().await?;
    tx.delete_factors(&user.id).await?;
    let ended = end_access(&mut tx, &user.id, notices.as_ref(), now).await?;
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "factor.reset",
        outcome: Outcome::Success,
        user_id: Some(user.id.clone()),
        detail: ended.detail(),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(ended.revoked)
}

/// Sets whether logins for a client need a second factor; `None` defers to `mfa_default`.
pub async fn set_client_mfa(
    store: &Store,
    client_id: &str,
    policy: Option<MfaPolicy>,
    now: i64,
) -> Result<(), AccountError> {
    let value = policy.map_or("default", MfaPolicy::as_str);
    let mut tx = store.begin().await?;
    if !tx.set_client_mfa(client_id, value).await? {
        return Err(AccountError::NoSuchClient);
    }
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "client.mfa",
        outcome: Outcome::Success,
        client_id: Some(client_id.to_string()),
        detail: json!({ "via": "cli", "mfa": value }),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests;
