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
    pub created_at: i64,
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
}

fn from_row(row: &AnyRow) -> Result<Client> {
    let uris: String = row.try_get("redirect_uris")?;
    Ok(Client {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: serde_json::from_str(&uris)
            .map_err(|_| StoreError::Corrupt("clients.redirect_uris"))?,
        allowed_scope: row.try_get("allowed_scope")?,
        id_token_alg: row.try_get("id_token_alg")?,
        first_party: row.try_get::<i64, _>("first_party")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    pub async fn client(&self, id: &str) -> Result<Option<Client>> {
        let row = sqlx::query(
            "SELECT id, name, secret_hash, redirect_uris, allowed_scope, id_token_alg, \
             first_party, created_at FROM clients WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }
}

impl Tx {
    pub async fn insert_client(&mut self, client: &NewClient<'_>, now: i64) -> Result<()> {
        let uris = serde_json::to_string(client.redirect_uris)
            .map_err(|_| StoreError::Corrupt("redirect_uris"))?;
        sqlx::query(
            "INSERT INTO clients (id, name, secret_hash, redirect_uris, allowed_scope, \
             id_token_alg, first_party, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(client.id)
        .bind(client.name)
        .bind(client.secret_hash.map(<[u8]>::to_vec))
        .bind(uris)
        .bind(client.allowed_scope)
        .bind(client.id_token_alg)
        .bind(flag(client.first_party))
        .bind(now)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        Ok(())
    }
}
