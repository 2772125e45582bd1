//! Listing, changing and removing registered clients, as the admin API does. Every change
//! is a compare-and-set on the row's `version`, so that two admins cannot overwrite each
//! other unawares: a write that finds another version changes nothing and says so.

use crate::clients::{from_row, COLUMNS};
use crate::{Client, NewClient, Result, Store, StoreError, Tx};

/// What removing a client took with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientRemoval {
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    pub codes: u64,
    pub consents: u64,
}

/// The secret that a rotation keeps valid for a while.
#[derive(Clone, Copy, Debug)]
pub struct PreviousSecret<'a> {
    pub hash: &'a [u8],
    pub expires_at: i64,
}

/// `LIKE` matches `_` and `%` as wildcards; a search for them means the characters.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Up to `limit` clients in order of id, after `after` (exclusive), whose name or id
    /// contains `q` regardless of case.
    pub async fn clients_page(
        &self,
        after: Option<&str>,
        q: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Client>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM clients WHERE id > $1 \
             AND (LOWER(name) LIKE $2 ESCAPE '\\' OR LOWER(id) LIKE $2 ESCAPE '\\') \
             ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(after.unwrap_or(""))
            .bind(like_pattern(q.unwrap_or("")))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }
}

impl Tx {
    /// The client `id`, read inside the transaction that is about to change it.
    pub async fn client(&mut self, id: &str) -> Result<Option<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Replaces the registration of `client.id` if its version is still `version`, and
    /// bumps it. The secret and the authentication method stay as they are: an update never
    /// changes how a client proves who it is. Returns whether the row was changed.
    pub async fn update_client(
        &mut self,
        client: &NewClient<'_>,
        version: i64,
        now: i64,
    ) -> Result<bool> {
        let uris = serde_json::to_string(client.redirect_uris)
            .map_err(|_| StoreError::Corrupt("redirect_uris"))?;
        let logout_uris = serde_json::to_string(client.post_logout_redirect_uris)
            .map_err(|_| StoreError::Corrupt("post_logout_redirect_uris"))?;
        let done = sqlx::query(
            "UPDATE clients SET name = $1, redirect_uris = $2, allowed_scope = $3, \
             id_token_alg = $4, first_party = $5, grant_types = $6, jwks = $7, jwks_uri = $8, \
             post_logout_redirect_uris = $9, backchannel_logout_uri = $10, \
             refresh_token_ttl = $11, refresh_token_idle_ttl = $12, access_token_ttl = $13, \
             mfa = $14, version = version + 1, updated_at = $15 \
             WHERE id = $16 AND version = $17",
        )
        .bind(client.name)
        .bind(uris)
        .bind(client.allowed_scope)
        .bind(client.id_token_alg)
        .bind(crate::flag(client.first_party))
        .bind(client.grant_types.join(" "))
        .bind(client.jwks)
        .bind(client.jwks_uri)
        .bind(logout_uris)
        .bind(client.backchannel_logout_uri)
        .bind(client.refresh_token_ttl)
        .bind(client.refresh_token_idle_ttl)
        .bind(client.access_token_ttl)
        .bind(client.mfa)
        .bind(now)
        .bind(client.id)
        .bind(version)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a new secret digest for `id` if its version is still `version`; `previous`
    /// is the secret that stays valid until its expiry, or `None` to end the old one now.
    /// A secret still in an earlier grace period is forgotten. Returns whether it changed.
    pub async fn rotate_client_secret(
        &mut self,
        id: &str,
        version: i64,
        secret_hash: &[u8],
        previous: Option<PreviousSecret<'_>>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE clients SET secret_hash = $1, previous_secret_hash = $2, \
             previous_secret_expires_at = $3, version = version + 1, updated_at = $4 \
             WHERE id = $5 AND version = $6",
        )
        .bind(secret_hash.to_vec())
        .bind(previous.map(|p| p.hash.to_vec()))
        .bind(previous.map(|p| p.expires_at))
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes the client `id` if its version is still `version`, with everything issued to
    /// it: its codes, access and refresh tokens (deleted, so that introspection and the
    /// userinfo endpoint no longer know them), the consents people gave it, and its pending
    /// logout notifications and spent assertion ids. `None` when the version did not match;
    /// the caller then rolls back, and nothing was removed.
    pub async fn delete_client(&mut self, id: &str, version: i64) -> Result<Option<ClientRemoval>> {
        let mut removal = ClientRemoval::default();
        let counted = [
            (
                "DELETE FROM authorization_codes WHERE client_id = $1",
                &mut removal.codes,
            ),
            (
                "DELETE FROM access_tokens WHERE client_id = $1",
                &mut removal.access_tokens,
            ),
            (
                "DELETE FROM refresh_tokens WHERE client_id = $1",
                &mut removal.refresh_tokens,
            ),
            (
                "DELETE FROM consents WHERE client_id = $1",
                &mut removal.consents,
            ),
        ];
        for (sql, count) in counted {
            *count = sqlx::query(sql)
                .bind(id)
                .execute(&mut *self.0)
                .await?
                .rows_affected();
        }
        for sql in [
            "DELETE FROM session_clients WHERE client_id = $1",
            "DELETE FROM logout_deliveries WHERE client_id = $1",
            "DELETE FROM client_assertion_jtis WHERE client_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *self.0).await?;
        }
        let done = sqlx::query("DELETE FROM clients WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(version)
            .execute(&mut *self.0)
            .await?;
        Ok((done.rows_affected() == 1).then_some(removal))
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn a_search_matches_wildcard_characters_literally() {
        assert_eq!(like_pattern(""), "%%");
        assert_eq!(like_pattern("Web App"), "%web app%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
