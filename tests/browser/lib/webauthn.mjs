// A passkey authenticator for tests: Chromium's virtual authenticator, installed through the
// DevTools protocol's WebAuthn domain. It stands in for a platform authenticator (the kind
// built into a laptop or phone): CTAP2, the `internal` transport, discoverable credentials
// (resident keys, which passkey sign-in without a username needs, WebAuthn Level 3 §6.2.2)
// and user verification that succeeds, as a fingerprint or PIN would (§6.2.3).
//
// The authenticator belongs to one page. WebAuthn runs only in a secure context, which
// http://localhost is (W3C Secure Contexts §3.2), and the page's effective domain must be a
// valid domain, which an IP address is not (WebAuthn Level 2 §5.1.3): hence tests serve
// Tessera as http://localhost:PORT, never http://127.0.0.1:PORT.

/** The options of a platform passkey authenticator (CDP `WebAuthn.VirtualAuthenticatorOptions`). */
export const PLATFORM_PASSKEY = Object.freeze({
  protocol: 'ctap2',
  ctap2Version: 'ctap2_1',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  // Touches the sensor by itself whenever the page asks for user presence.
  automaticPresenceSimulation: true,
});

/** A virtual authenticator attached to one page; remove it when done. */
export class VirtualAuthenticator {
  #cdp;
  #id;

  constructor(cdp, id) {
    this.#cdp = cdp;
    this.#id = id;
  }

  /**
   * The credentials it holds, each with `credentialId`, `isResidentCredential`, `rpId`,
   * `userHandle` (base64) and `signCount`.
   */
  async credentials() {
    const { credentials } = await this.#cdp.send('WebAuthn.getCredentials', {
      authenticatorId: this.#id,
    });
    return credentials;
  }

  /** Makes the next user verification succeed or fail (a wrong fingerprint, say). */
  async setUserVerified(verified) {
    await this.#cdp.send('WebAuthn.setUserVerified', {
      authenticatorId: this.#id,
      isUserVerified: verified,
    });
  }

  /** Detaches the authenticator and its credentials from the page. */
  async remove() {
    await this.#cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: this.#id });
    await this.#cdp.send('WebAuthn.disable');
    await this.#cdp.detach();
  }
}

/**
 * Gives `page` a virtual platform authenticator. `enableUI: false` keeps Chromium from
 * showing its own account picker, which a headless test could not click.
 */
export async function installVirtualAuthenticator(page, options = PLATFORM_PASSKEY) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options });
  return new VirtualAuthenticator(cdp, authenticatorId);
}
