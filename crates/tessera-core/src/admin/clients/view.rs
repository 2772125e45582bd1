//! How a stored client is shown, how a list page is cut, and how a merge patch becomes a
//! complete registration to validate.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tessera_protocol::admin::{
    ClientListQuery, ClientMfa, ClientPatch, ClientType, ClientView, FieldError, SecretRotation,
    DEFAULT_PAGE, MAX_PAGE,
};
use tessera_store::Client;

use crate::accounts::NewClientRequest;
use crate::mfa::MfaPolicy;

/// The wire view of `client` at `now`. Never holds the secret or its digest.
pub(crate) fn view(client: &Client, now: i64) -> ClientView {
    let previous = client
        .previous_secret_at(now)
        .and(client.previous_secret_expires_at);
    ClientView {
        client_id: client.id.clone(),
        name: client.name.clone(),
        client_type: if client.is_public() {
            ClientType::Public
        } else {
            ClientType::Confidential
        },
        token_endpoint_auth_method: client.token_endpoint_auth_method.clone(),
        redirect_uris: client.redirect_uris.clone(),
        post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
        grant_types: client.grant_types.clone(),
        scope: client.allowed_scope.clone(),
        refresh_token_ttl: client.refresh_token_ttl,
        refresh_token_idle_ttl: client.refresh_token_idle_ttl,
        access_token_ttl: client.access_token_ttl,
        id_token_signed_response_alg: client.id_token_alg.clone(),
        mfa: mfa_of(&client.mfa),
        first_party: client.first_party,
        backchannel_logout_uri: client.backchannel_logout_uri.clone(),
        // Validated as JSON at registration; a row that no longer parses shows no keys
        // rather than failing the read.
        jwks: client
            .jwks
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok()),
        jwks_uri: client.jwks_uri.clone(),
        secret_rotation: SecretRotation {
            previous_secret_valid: previous.is_some(),
            previous_secret_expires_at: previous,
        },
        created_at: client.created_at,
        updated_at: client.updated_at,
        version: client.version,
    }
}

fn mfa_of(stored: &str) -> ClientMfa {
    match MfaPolicy::parse(stored) {
        Some(MfaPolicy::Required) => ClientMfa::Required,
        Some(MfaPolicy::Optional) => ClientMfa::Optional,
        None => ClientMfa::Default,
    }
}

pub(crate) fn policy_of(mfa: ClientMfa) -> Option<MfaPolicy> {
    match mfa {
        ClientMfa::Required => Some(MfaPolicy::Required),
        ClientMfa::Optional => Some(MfaPolicy::Optional),
        ClientMfa::Default => None,
    }
}

/// The longest `q` accepted, in characters.
const MAX_QUERY_LENGTH: usize = 200;

/// A list request, its parameters checked.
pub(crate) struct Page {
    pub after: Option<String>,
    pub limit: i64,
    pub q: Option<String>,
}

/// The cursor is the last id of the page, base64url: opaque to callers, so the order can
/// change later without breaking them.
pub(crate) fn cursor_after(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_id.as_bytes())
}

/// Checks the parameters of `GET /clients`, naming every bad one.
pub(crate) fn page(query: &ClientListQuery) -> Result<Page, Vec<FieldError>> {
    let mut errors = Vec::new();

    let after = match query.cursor.as_deref() {
        None => None,
        Some(cursor) => {
            let decoded = URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                // Ids hold no control characters (and PostgreSQL's text no NUL).
                .filter(|id| !id.chars().any(char::is_control));
            if decoded.is_none() {
                errors.push(FieldError::new(
                    "cursor",
                    "not a cursor this API handed out",
                ));
            }
            decoded
        }
    };

    let limit = match query.limit.as_deref() {
        None => DEFAULT_PAGE,
        Some(text) => match text.parse::<i64>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    "must be a whole number from 1 to 200",
                ));
                DEFAULT_PAGE
            }
        },
    };

    let q = query.q.clone().filter(|q| !q.is_empty());
    if q.as_ref()
        .is_some_and(|q| q.chars().count() > MAX_QUERY_LENGTH)
    {
        errors.push(FieldError::new("q", "must be at most 200 characters"));
    }
    if q.as_ref().is_some_and(|q| q.chars().any(char::is_control)) {
        errors.push(FieldError::new("q", "must not hold control characters"));
    }

    if errors.is_empty() {
        Ok(Page { after, limit, q })
    } else {
        Err(errors)
    }
}

/// A registration with a merge patch applied: every member owned, ready to be borrowed by
/// a [`NewClientRequest`] and validated like a new one.
pub(crate) struct Merged {
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scope: String,
    pub refresh_token_ttl: Option<i64>,
    pub refresh_token_idle_ttl: Option<i64>,
    pub access_token_ttl: Option<i64>,
    pub id_token_alg: String,
    pub mfa: Option<MfaPolicy>,
    pub first_party: bool,
    pub backchannel_logout_uri: Option<String>,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
}

/// RFC 7396 §2: a member left out keeps its value, `null` takes the member's default, a
/// value replaces it. `name` has no default, so `null` there is refused (in `errors`).
pub(crate) fn merge(current: &Client, patch: &ClientPatch, errors: &mut Vec<FieldError>) -> Merged {
    fn pick<T: Clone>(member: &Option<Option<T>>, current: T, default: T) -> T {
        match member {
            None => current,
            Some(None) => default,
            Some(Some(value)) => value.clone(),
        }
    }
    // A nullable member: `null` clears it.
    fn replace<T: Clone>(member: &Option<Option<T>>, current: Option<T>) -> Option<T> {
        match member {
            None => current,
            Some(value) => value.clone(),
        }
    }

    let name = match &patch.name {
        None => current.name.clone(),
        Some(Some(name)) => name.clone(),
        Some(None) => {
            errors.push(FieldError::new(
                "/name",
                "cannot be null: a client has a name",
            ));
            current.name.clone()
        }
    };
    let jwks = match &patch.jwks {
        None => current.jwks.clone(),
        Some(None) => None,
        Some(Some(value)) => Some(value.to_string()),
    };
    let mfa = match &patch.mfa {
        None => MfaPolicy::parse(&current.mfa),
        Some(member) => member.and_then(policy_of),
    };
    let (ttl, idle) = (current.refresh_token_ttl, current.refresh_token_idle_ttl);

    Merged {
        name,
        public: current.is_public(),
        redirect_uris: pick(&patch.redirect_uris, current.redirect_uris.clone(), vec![]),
        post_logout_redirect_uris: pick(
            &patch.post_logout_redirect_uris,
            current.post_logout_redirect_uris.clone(),
            vec![],
        ),
        grant_types: pick(
            &patch.grant_types,
            current.grant_types.clone(),
            vec!["authorization_code".to_string()],
        ),
        scope: pick(&patch.scope, current.allowed_scope.clone(), "openid".into()),
        refresh_token_ttl: replace(&patch.refresh_token_ttl, Some(ttl)),
        refresh_token_idle_ttl: replace(&patch.refresh_token_idle_ttl, Some(idle)),
        access_token_ttl: replace(&patch.access_token_ttl, current.access_token_ttl),
        id_token_alg: pick(
            &patch.id_token_signed_response_alg,
            current.id_token_alg.clone(),
            "RS256".into(),
        ),
        mfa,
        first_party: pick(&patch.first_party, current.first_party, false),
        backchannel_logout_uri: replace(
            &patch.backchannel_logout_uri,
            current.backchannel_logout_uri.clone(),
        ),
        jwks,
        jwks_uri: replace(&patch.jwks_uri, current.jwks_uri.clone()),
    }
}

impl Merged {
    pub(crate) fn request(&self) -> NewClientRequest<'_> {
        NewClientRequest {
            name: &self.name,
            redirect_uris: &self.redirect_uris,
            public: self.public,
            first_party: self.first_party,
            id_token_alg: &self.id_token_alg,
            scope: &self.scope,
            grant_types: &self.grant_types,
            post_logout_redirect_uris: &self.post_logout_redirect_uris,
            backchannel_logout_uri: self.backchannel_logout_uri.as_deref(),
            jwks: self.jwks.as_deref(),
            jwks_uri: self.jwks_uri.as_deref(),
            mfa: self.mfa,
            refresh_token_ttl: self.refresh_token_ttl,
            refresh_token_idle_ttl: self.refresh_token_idle_ttl,
            access_token_ttl: self.access_token_ttl,
        }
    }
}
