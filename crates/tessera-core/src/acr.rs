//! Which authentication context class a login reached, and which one a request needs.
//!
//! A session's class is derived from its `amr` (RFC 8176 §2), never stored beside it, so
//! that sessions, codes and refresh tokens, which all keep `amr`, cannot disagree with the
//! `acr` of the ID tokens issued from them. The request's class comes from `acr_values`
//! (OIDC Core §3.1.2.1) and the client's MFA policy; see [`required`] for the rule.

use tessera_protocol::acr::Acr;
use tessera_protocol::authorize::AuthorizationRequest;
use tessera_store::Client;

use crate::mfa::MfaPolicy;
use crate::{Provider, ProviderError};

/// The highest class Tessera insists on within a login: a second factor, which it verifies
/// or, for a person without one, enrols on the spot. A person who signs in with a WebAuthn
/// key reaches `phr` or `phrh` and the ID token says so, but a request for them is met by
/// any second factor, since the factor page also takes a code.
// TODO: demand a key for phr/phrh from people who hold one (factor page offering keys only).
pub const REACHABLE: Acr = Acr::MultiFactor;

/// The class of a login whose methods were `amr` (space-separated RFC 8176 §2 values).
///
/// A login counts as more than one factor only when its `amr` says "mfa"; without it, it
/// is one factor, whatever that factor was. Above that, a WebAuthn key makes the login
/// phishing-resistant (OpenID Connect EAP ACR Values §2): "hwk", a key held in hardware,
/// gives `phrh`; "swk", a key in software (a synced passkey), gives `phr`. The factor
/// must have been part of a multi-factor login, because the order of the classes puts
/// `phr` above `urn:tessera:acr:mfa`: a client that asked for two factors must never be
/// served a lone key by way of the stronger-sounding class.
pub fn acr_of(amr: &str) -> Acr {
    let has = |method: &str| amr.split(' ').any(|value| value == method);

    if !has("mfa") {
        return Acr::Password;
    }

    if has("hwk") {
        return Acr::PhishingResistantHardware;
    }

    if has("swk") {
        return Acr::PhishingResistant;
    }

    Acr::MultiFactor
}

/// The class a login must reach before a code is issued.
///
/// The rule, for `acr_values` (OIDC Core §3.1.2.1, a voluntary request):
/// 1. Unknown values were dropped when the request was read; with none left, nothing is
///    asked for.
/// 2. The client lists the classes it will accept, in order of preference; every class is
///    met by a login of that class or a stronger one. So the request is met by a login
///    that reaches the weakest class listed: `acr_values=phr urn:tessera:acr:mfa` is
///    served by a two-factor login, and a `phr` login would be preferred but is not owed.
/// 3. A class stronger than `reachable`, the best the person can reach here, is asked
///    for as `reachable`: the login goes on, and the ID token's `acr` says honestly what
///    it reached. The relying party decides whether that is enough.
/// 4. A client whose MFA policy is `required` needs at least two factors, whatever it
///    asked for: that is a rule of the client's registration, not a request.
pub fn required(requested: &[Acr], mfa: MfaPolicy, reachable: Acr) -> Acr {
    let asked = requested
        .iter()
        .copied()
        .min()
        .map_or(Acr::Password, |weakest| weakest.min(reachable));
    let floor = match mfa {
        MfaPolicy::Required => Acr::MultiFactor,
        MfaPolicy::Optional => Acr::Password,
    };
    asked.max(floor)
}

impl Provider {
    /// The class a login for `request` to `client` must reach ([`required`]).
    pub(crate) fn required_acr(&self, request: &AuthorizationRequest, client: &Client) -> Acr {
        let mfa = MfaPolicy::for_client(client, self.inner.settings.mfa_default);
        required(&request.acr_values, mfa, REACHABLE)
    }

    /// [`Provider::required_acr`] for a request whose client is known only by id; a client
    /// that no longer exists asks for nothing (its interaction will end at the next step).
    pub(crate) async fn required_acr_of(
        &self,
        request: &AuthorizationRequest,
    ) -> Result<Acr, ProviderError> {
        let client = self.inner.store.client(request.client_id.as_str()).await?;
        Ok(client.map_or(Acr::Password, |client| self.required_acr(request, &client)))
    }
}

#[cfg(test)]
mod tests;
