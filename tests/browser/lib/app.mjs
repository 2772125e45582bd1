// The relying party: openid-client, a certified RP library, does what a real app's back end
// does. It discovers Tessera, builds each authorization request with PKCE (RFC 7636), a
// nonce and a state, redeems the code, and validates the ID token: issuer, audience, nonce,
// expiry, and (with non-repudiation checks on) its signature against Tessera's JWKS, since
// a plain-http issuer leaves no TLS to vouch for the token (OIDC Core §3.1.3.7 step 6).

import * as oidc from 'openid-client';

export class App {
  #config;
  #redirectUri;

  constructor(config, redirectUri) {
    this.#config = config;
    this.#redirectUri = redirectUri;
  }

  /** Discovers `issuer` (OIDC Discovery 1.0 §4) for a confidential client. */
  static async discover({ issuer, clientId, clientSecret, redirectUri }) {
    const config = await oidc.discovery(
      new URL(issuer),
      clientId,
      undefined,
      oidc.ClientSecretBasic(clientSecret),
      // Tessera allows plain http only on loopback; the library must be told to allow it.
      { execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] },
    );
    return new App(config, redirectUri);
  }

  /** Whether `url` is this app's redirect URI, whatever its query. */
  isRedirect(url) {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}` === this.#redirectUri;
  }

  /**
   * A new authorization request (OIDC Core §3.1.2.1). Returns its URL and the checks the
   * app keeps in its own session until the browser comes back.
   */
  async authorizationRequest() {
    const checks = {
      pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
      expectedNonce: oidc.randomNonce(),
      expectedState: oidc.randomState(),
      idTokenExpected: true,
    };
    const url = oidc.buildAuthorizationUrl(this.#config, {
      redirect_uri: this.#redirectUri,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
      code_challenge_method: 'S256',
      nonce: checks.expectedNonce,
      state: checks.expectedState,
    });
    return { url: url.href, checks };
  }

  /**
   * Handles the browser's arrival at the redirect URI: checks `state` and `iss` (RFC 9207),
   * redeems the code with the PKCE verifier, validates the ID token. Returns the tokens and
   * the ID token's claims.
   */
  async callback(callbackUrl, checks) {
    const tokens = await oidc.authorizationCodeGrant(this.#config, new URL(callbackUrl), checks);
    return { idToken: tokens.id_token, claims: tokens.claims() };
  }

  /** An RP-initiated logout request (RP-Initiated Logout 1.0 §2). */
  endSessionUrl(parameters) {
    return oidc.buildEndSessionUrl(this.#config, parameters).href;
  }
}
