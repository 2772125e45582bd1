//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3; OIDC Core §9; RFC 7523 §2.2 for `private_key_jwt`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::SecretString;

use crate::client_assertion::{unverified_claims, JWT_BEARER};
use crate::params::Params;
use crate::types::ClientId;
use crate::OAuthError;

/// How a client presented itself at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug)]
pub enum ClientCredentials {
    /// `client_secret_basic`: HTTP Basic with form-urlencoded id and secret.
    Basic {
        client_id: ClientId,
        secret: SecretString,
    },
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    Post {
        client_id: ClientId,
        secret: SecretString,
    },
    /// `none`: a public client names itself and proves nothing but PKCE.
    None { client_id: ClientId },
    /// `private_key_jwt` (OIDC Core §9; RFC 7523 §2.2): a JWT signed with the client's
    /// key. `client_id` is the assertion's unverified `sub`, only a key to look up with.
    PrivateKeyJwt {
        client_id: ClientId,
        assertion: SecretString,
    },
}

impl ClientCredentials {
    pub fn client_id(&self) -> &ClientId {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::None { client_id }
            | Self::PrivateKeyJwt { client_id, .. } => client_id,
        }
    }

    /// Reads the client's credentials from the `Authorization` header and the body.
    ///
    /// The secret is taken out of `params`, so nothing downstream can log or reuse it.
    pub fn from_request(
        authorization: Option<&str>,
        params: &mut Params,
    ) -> Result<Self, OAuthError> {
        let body_secret = params.take("client_secret");
        let assertion_type = params.take("client_assertion_type");
        let assertion = params.take("client_assertion");

        if assertion_type.is_some() || assertion.is_some() {
            // RFC 6749 §2.3: a client must not use more than one authentication method.
            if authorization.is_some() || body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use only one client authentication method",
                ));
            }
            return Self::from_assertion(assertion_type, assertion, params);
        }

        let Some(header) = authorization else {
            let client_id = params
                .get("client_id")
                .filter(|id| plausible_client_id(id))
                .ok_or_else(OAuthError::invalid_client)?;
            let client_id = ClientId::new(client_id);
            return Ok(match body_secret {
                Some(secret) => Self::Post {
                    client_id,
                    secret: SecretString::from(secret),
                },
                None => Self::None { client_id },
            });
        };

        // RFC 6749 §2.3: a client must not use more than one authentication method.
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use only one client authentication method",
            ));
        }

        let (client_id, secret) = parse_basic(header).ok_or_else(OAuthError::invalid_client)?;
        if let Some(body_id) = params.get("client_id") {
            if body_id != client_id {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the credentials",
                ));
            }
        }
        Ok(Self::Basic {
            client_id: ClientId::new(client_id),
            secret: SecretString::from(secret),
        })
    }
}

impl ClientCredentials {
    /// RFC 7521 §4.2 and RFC 7523 §2.2: both parameters, the JWT bearer type, and a
    /// `client_id`, if sent, equal to the assertion's subject (RFC 7523 §3, item 2).
    fn from_assertion(
        assertion_type: Option<String>,
        assertion: Option<String>,
        params: &Params,
    ) -> Result<Self, OAuthError> {
        let Some(assertion_type) = assertion_type else {
            return Err(OAuthError::invalid_request(
                "client_assertion_type is required with client_assertion",
            ));
        };

        let Some(assertion) = assertion else {
            return Err(OAuthError::invalid_request(
                "client_assertion is required with client_assertion_type",
            ));
        };

        if assertion_type != JWT_BEARER {
            return Err(OAuthError::invalid_client());
        }

        let subject = unverified_claims(&assertion)
            .and_then(|claims| claims.get("sub")?.as_str().map(str::to_string))
            .ok_or_else(OAuthError::invalid_client)?;

        if params.get("client_id").is_some_and(|id| id != subject) {
            return Err(OAuthError::invalid_client());
        }

        Ok(Self::PrivateKeyJwt {
            client_id: ClientId::new(subject),
            assertion: SecretString::from(assertion),
        })
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617).
/// The longest client id looked up. Tessera's are 22 characters; RFC 6749 sets no limit, but
/// an unbounded one would be written into the audit trail and its exports as sent.
pub const MAX_CLIENT_ID: usize = 255;

/// RFC 6749 Appendix A.1: a client id is VSCHARs; one with a control character (NUL above
/// all, which PostgreSQL's text cannot hold), or longer than [`MAX_CLIENT_ID`], names no
/// client and is refused before any lookup or audit write.
fn plausible_client_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_ID && !id.chars().any(char::is_control)
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, token) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(token.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let id = url::form_urlencoded::parse(format!("a={id}").as_bytes())
        .next()?
        .1
        .into_owned();
    let secret = url::form_urlencoded::parse(format!("a={secret}").as_bytes())
        .next()?
        .1
        .into_owned();
    if !plausible_client_id(&id) {
        return None;
    }
    Some((id, secret))
}

#[cfg(test)]
mod tests;
