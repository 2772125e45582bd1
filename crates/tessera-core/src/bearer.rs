//! Checks shared by every resource that accepts Tessera's access tokens (userinfo, the admin
//! API): RFC 9068 §4's validation of the JWT itself. What the token may do there, and whether
//! it is still live in the database, is each resource's own check.

use serde_json::Value;

use crate::keys::Alg;
use crate::token::ACCESS_TOKEN_TYP;
use crate::Provider;

/// The claims of an access token that passed [`Provider::bearer_claims`].
#[derive(Clone, Debug)]
pub(crate) struct BearerClaims {
    pub sub: String,
    pub jti: String,
    pub client_id: String,
    /// Space-separated, as issued.
    pub scope: String,
    /// Empty for a token that speaks for no person.
    pub amr: Vec<String>,
}

impl BearerClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}

fn text(claims: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(str::to_string)
}

impl Provider {
    /// The claims of `token` if it is one of our access tokens, unexpired at `now`.
    pub(crate) fn bearer_claims(&self, token: &str, now: i64) -> Option<BearerClaims> {
        // RFC 9068 §4 steps 2 and 3: our signature, with `typ` at+jwt (checked by the keyring).
        let claims = self
            .inner
            .keys
            .verify_at(token, Alg::Es256, ACCESS_TOKEN_TYP, now)?;
        let issuer = self.inner.settings.issuer.as_str();

        // RFC 9068 §4 step 4: issued by us.
        if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
            return None;
        }

        // RFC 9068 §4 step 5: meant for us (Tessera's resources are its own audience).
        if claims.get("aud").and_then(Value::as_str) != Some(issuer) {
            return None;
        }

        // RFC 9068 §4 step 6: not expired.
        let live = claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp > now);
        if !live {
            return None;
        }

        let amr = claims
            .get("amr")
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some(BearerClaims {
            sub: text(&claims, "sub")?,
            jti: text(&claims, "jti")?,
            client_id: text(&claims, "client_id")?,
            scope: text(&claims, "scope").unwrap_or_default(),
            amr,
        })
    }
}
