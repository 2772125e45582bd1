//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3; OIDC Core §9).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::SecretString;

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
}

impl ClientCredentials {
    pub fn client_id(&self) -> &ClientId {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::None { client_id } => client_id,
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

        let Some(header) = authorization else {
            let client_id = params
                .get("client_id")
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

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617).
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
    if id.is_empty() {
        return None;
    }
    Some((id, secret))
}

#[cfg(test)]
mod tests;
