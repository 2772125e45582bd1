//! Registered OAuth clients (RFC 6749 §2).

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{conflict, flag, Result, Store, StoreError, Tx};

#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// SHA-256 of the secret; `None` for a public client.
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub allowed_scope: String,
    pub id_token_alg: String,
    /// First-party clients skip the consent page.
    pub first_party: bool,
    /// Grant types the client may use (`authorization_code`, `refresh_token`,
    /// `client_credentials`).
    pub grant_types: Vec<String>,
    /// Inline JWKS for `private_key_jwt` (RFC 7523), as JSON.
    pub jwks: Option<String>,
    /// Where to fetch the JWKS for `private_key_jwt`, instead of `jwks`.
    pub jwks_uri: Option<String>,
    /// Exact strings allowed as `post_logout_redirect_uri` (RP-Initiated Logout §3).
    pub post_logout_redirect_uris: Vec<String>,
    /// Where back-channel logout tokens are posted (Back-Channel Logout §2.2).
    pub backchannel_logout_uri: Option<String>,
    /// Absolute lifetime of a refresh-token family, seconds.
    pub refresh_token_ttl: i64,
    /// Time a refresh token may go unused before it expires, seconds.
    pub refresh_token_idle_ttl: i64,
    /// How the client authenticates at the token endpoint (RFC 7591 §2):
    /// `client_secret_basic` (either secret method), `private_key_jwt` or `none`.
    pub token_endpoint_auth_method: String,
    /// Whether logins for this client need a second factor: `required`, `optional`, or
    /// `default` (the provider's `mfa_default` decides).
    pub mfa: String,
    /// Lifetime of the access tokens issued to this client, seconds; `None` keeps the
    /// provider's `access_token_ttl`.
    pub access_token_ttl: Option<i64>,
    /// SHA-256 of the secret a rotation replaced, accepted until
    /// `previous_secret_expires_at`; see [`Client::previous_secret_at`].
    pub previous_secret_hash: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<i64>,
    /// Bumped by every change (the admin API's `ETag`).
    pub version: i64,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

impl Client {
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// A public client (RFC 6749 §2.1) cannot authenticate at all. A `private_key_jwt`
    /// client has no secret either, but it is confidential.
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == "none"
    }

    /// The digest of the replaced secret while its grace period lasts at `now`, and `None`
    /// from its expiry on.
    pub fn previous_secret_at(&self, now: i64) -> Option<&[u8]> {
        let expires_at = self.previous_secret_expires_at?;
        if now >= expires_at {
            return None;
        }
        self.previous_secret_hash.as_deref()
    }
}

#[derive(Debug)]
pub struct NewClient<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub secret_hash: Option<&'a [u8]>,
    pub redirect_uris: &'a [String],
    pub allowed_scope: &'a str,
    pub id_token_alg: &'a str,
    pub first_party: bool,
    pub grant_types: &'a [String],
    pub jwks: Option<&'a str>,
    pub jwks_uri: Option<&'a str>,
    pub post_logout_redirect_uris: &'a [String],
    pub backchannel_logout_uri: Option<&'a str>,
    pub refresh_token_ttl: i64,
    pub refresh_token_idle_ttl: i64,
    pub access_token_ttl: Option<i64>,
    pub token_endpoint_auth_method: &'a str,
    /// `required`, `optional` or `default`.
    pub mfa: &'a str,
}

/// Defaults for the lifetimes of refresh-token families: 30 days absolute, 14 days idle.
pub const DEFAULT_REFRESH_TOKEN_TTL: i64 = 30 * 24 * 3600;
pub const DEFAULT_REFRESH_TOKEN_IDLE_TTL: i64 = 14 * 24 * 3600;

fn json_list(row: &AnyRow, column: &'static str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| StoreError::Corrupt(column))
}

pub(crate) fn from_row(row: &AnyRow) -> Result<Client> {
    let grant_types: String = row.try_get("grant_types")?;
    Ok(Client {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: json_list(row, "redirect_uris")?,
        allowed_scope: row.try_get("allowed_scope")?,
        id_token_alg: row.try_get("id_token_alg")?,
        first_party: row.try_get::<i64, _>("first_party")? != 0,
        grant_types: grant_types
            .split(' ')
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
        jwks: row.try_get("jwks")?,
        jwks_uri: row.try_get("jwks_uri")?,
        post_logout_redirect_uris: json_list(row, "post_logout_redirect_uris")?,
        backchannel_logout_uri: row.try_get("backchannel_logout_uri")?,
        refresh_token_ttl: row.try_get("refresh_token_ttl")?,
        refresh_token_idle_ttl: row.try_get("refresh_token_idle_ttl")?,
        token_endpoint_auth_method: row.try_get("token_endpoint_auth_method")?,
        mfa: row.try_get("mfa")?,
        access_token_ttl: row.try_get("access_token_ttl")?,
        previous_secret_hash: row.try_get("previous_secret_hash")?,
        previous_secret_expires_at: row.try_get("previous_secret_expires_at")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) const COLUMNS: &str =
    "id, name, secret_hash, redirect_uris, allowed_scope, id_token_alg, \
                       first_party, grant_types, jwks, jwks_uri, post_logout_redirect_uris, \
                       backchannel_logout_uri, refresh_token_ttl, refresh_token_idle_ttl, \
                       token_endpoint_auth_method, mfa, access_token_ttl, \
                       previous_secret_hash, previous_secret_expires_at, version, created_at, \
                       updated_at";

impl Store {
    pub async fn client(&self, id: &str) -> Result<Option<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }
}

impl Tx {
    /// Sets the client's second-factor policy (`required`, `optional` or `default`).
    pub async fn set_client_mfa(&mut self, client_id: &str, mfa: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE clients SET mfa = $1 WHERE id = $2")
            .bind(mfa)
            .bind(client_id)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_client(&mut self, client: &NewClient<'_>, now: i64) -> Result<()> {
        let uris = serde_json::to_string(client.redirect_uris)
            .map_err(|_| StoreError::Corrupt("redirect_uris"))?;
        let logout_uris = serde_json::to_string(client.post_logout_redirect_uris)
            .map_err(|_| StoreError::Corrupt("post_logout_redirect_uris"))?;
        sqlx::query(
            "INSERT INTO clients (id, name, secret_hash, redirect_uris, allowed_scope, \
             id_token_alg, first_party, grant_types, jwks, jwks_uri, post_logout_redirect_uris, \
             backchannel_logout_uri, refresh_token_ttl, refresh_token_idle_ttl, created_at, \
             token_endpoint_auth_method, access_token_ttl, mfa, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, 1)",
        )
        .bind(client.id)
        .bind(client.name)
        .bind(client.secret_hash.map(<[u8]>::to_vec))
        .bind(uris)
        .bind(client.allowed_scope)
        .bind(client.id_token_alg)
        .bind(flag(client.first_party))
        .bind(client.grant_types.join(" "))
        .bind(client.jwks)
        .bind(client.jwks_uri)
        .bind(logout_uris)
        .bind(client.backchannel_logout_uri)
        .bind(client.refresh_token_ttl)
        .bind(client.refresh_token_idle_ttl)
        .bind(now)
        .bind(client.token_endpoint_auth_method)
        .bind(client.access_token_ttl)
        .bind(client.mfa)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        Ok(())
    }
}
