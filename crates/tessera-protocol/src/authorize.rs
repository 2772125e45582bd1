//! The authorization request (RFC 6749 §4.1.1; OIDC Core §3.1.2.1).
//!
//! Validation runs in two phases, because the spec treats their failures differently
//! (RFC 6749 §4.1.2.1): while the client and its redirection URI are not yet trusted, an
//! error must be shown to the person and never redirected; once they are, every other error
//! is returned to the client at its redirection URI.

use serde::{Deserialize, Serialize};

use crate::acr::{parse_acr_values, Acr};
use crate::params::{repeated_error, Params};
use crate::pkce::CodeChallenge;
use crate::scope::Scope;
use crate::types::{opaque, ClientId, LoginHint, Nonce, RedirectUri, State};
use crate::{ErrorCode, OAuthError};

/// The values that must be trusted before any error may be redirected.
#[derive(Debug)]
pub struct ClientAndRedirect<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
}

impl<'a> ClientAndRedirect<'a> {
    /// Phase one: the parameters that identify where errors may be sent.
    ///
    /// `redirect_uri` is required on every request (OIDC Core §3.1.2.1), which also spares
    /// the ambiguity of RFC 6749 §3.1.2.3 for clients with one registered URI.
    pub fn from_params(params: &'a Params) -> Result<Self, OAuthError> {
        for name in ["client_id", "redirect_uri"] {
            if params.is_repeated(name) {
                return Err(repeated_error(name));
            }
        }
        Ok(Self {
            client_id: params.require("client_id")?,
            redirect_uri: params.require("redirect_uri")?,
        })
    }
}

/// What the registered client allows, as far as validating a request needs to know.
#[derive(Debug)]
pub struct ClientPolicy<'a> {
    /// Public clients cannot keep a secret, so PKCE is their only proof (RFC 9700 §2.1.1).
    pub is_public: bool,
    pub allowed_scope: &'a Scope,
}

/// `prompt` (OIDC Core §3.1.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

impl Prompt {
    pub const SUPPORTED: [&'static str; 3] = ["none", "login", "consent"];

    fn parse(value: &str) -> Result<Self, OAuthError> {
        let mut prompt = Prompt::default();
        for token in value.split(' ').filter(|t| !t.is_empty()) {
            match token {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                _ => return Err(OAuthError::invalid_request("unsupported prompt value")),
            }
        }

        // "If this parameter contains none with any other value, an error is returned."
        if prompt.none && (prompt.login || prompt.consent) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined",
            ));
        }
        Ok(prompt)
    }
}

/// A validated authorization request for the code flow.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    pub state: Option<State>,
    pub scope: Scope,
    pub nonce: Option<Nonce>,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Prompt,
    /// Seconds since the last active authentication that the client will accept.
    pub max_age: Option<i64>,
    pub login_hint: Option<LoginHint>,
    /// The known classes of `acr_values`, in the client's order of preference (OIDC Core
    /// §3.1.2.1). Empty when none was asked for; absent from interactions stored before
    /// step-up existed.
    #[serde(default)]
    pub acr_values: Vec<Acr>,
    /// An ID token Tessera issued earlier, naming the person the client expects (OIDC Core
    /// §3.1.2.1). Only the first decision reads it, so it is not kept in the interaction.
    #[serde(skip)]
    pub id_token_hint: Option<String>,
}

impl AuthorizationRequest {
    /// Phase two: every other parameter, once the client and redirect URI are trusted.
    pub fn validate(
        params: &Params,
        client_id: ClientId,
        redirect_uri: RedirectUri,
        client: &ClientPolicy<'_>,
    ) -> Result<Self, OAuthError> {
        // RFC 6749 §3.1 and §4.1.2.1: a repeated parameter is an invalid request, reported
        // to the client now that its redirect URI is trusted.
        if let Some(name) = params.repeated() {
            return Err(repeated_error(name));
        }

        // OIDC Core §6: request objects are not supported, and discovery says so.
        if params.contains("request") {
            return Err(OAuthError::new(
                ErrorCode::RequestNotSupported,
                "request objects are not supported",
            ));
        }
        if params.contains("request_uri") {
            return Err(OAuthError::new(
                ErrorCode::RequestUriNotSupported,
                "request_uri is not supported",
            ));
        }

        // RFC 6749 §4.1.1: response_type is required and must be "code".
        match params.require("response_type")? {
            "code" => {}
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedResponseType,
                    "only response_type=code is supported",
                ))
            }
        }

        // OAuth 2.0 Multiple Response Types §2.1: only the default mode is offered.
        if let Some(mode) = params.get("response_mode") {
            if mode != "query" {
                return Err(OAuthError::invalid_request(
                    "only response_mode=query is supported",
                ));
            }
        }

        // RFC 6749 §3.3: the server refuses scopes the client may not request.
        let scope = Scope::parse(params.get("scope").unwrap_or_default())?;
        if scope.is_empty() {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "scope is required",
            ));
        }
        if !scope.is_subset(client.allowed_scope) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "the client may not request one of these scopes",
            ));
        }

        let state = params
            .get("state")
            .map(|v| opaque("state", v))
            .transpose()?
            .map(State::new);
        let nonce = params
            .get("nonce")
            .map(|v| opaque("nonce", v))
            .transpose()?
            .map(Nonce::new);
        let login_hint = params
            .get("login_hint")
            .map(|v| opaque("login_hint", v))
            .transpose()?
            .map(LoginHint::new);
        let id_token_hint = params
            .get("id_token_hint")
            .map(|v| opaque("id_token_hint", v))
            .transpose()?;

        // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: public clients must use PKCE.
        let code_challenge = match params.get("code_challenge") {
            Some(challenge) => Some(CodeChallenge::parse(
                challenge,
                params.get("code_challenge_method"),
            )?),
            None if params.contains("code_challenge_method") => {
                return Err(OAuthError::invalid_request("code_challenge is missing"))
            }
            None => None,
        };
        if client.is_public && code_challenge.is_none() {
            return Err(OAuthError::invalid_request(
                "public clients must use PKCE (S256)",
            ));
        }

        let prompt = Prompt::parse(params.get("prompt").unwrap_or_default())?;

        let max_age = match params.get("max_age") {
            Some(value) => Some(value.parse::<u32>().map(i64::from).map_err(|_| {
                OAuthError::invalid_request("max_age must be a non-negative integer")
            })?),
            None => None,
        };

        let acr_values = params
            .get("acr_values")
            .map(parse_acr_values)
            .transpose()?
            .unwrap_or_default();

        Ok(Self {
            client_id,
            redirect_uri,
            state,
            scope,
            nonce,
            code_challenge,
            prompt,
            max_age,
            login_hint,
            acr_values,
            id_token_hint,
        })
    }

    pub fn is_openid(&self) -> bool {
        self.scope.contains(crate::scope::OPENID)
    }
}

#[cfg(test)]
mod tests;
