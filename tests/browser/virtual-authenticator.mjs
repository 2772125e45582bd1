// Scaffolding check for passkey scenarios: the virtual platform authenticator of
// lib/webauthn.mjs works in Debian's Chromium on the origin Tessera is served from.
// Started by tests/tests/browser.rs. Tessera has no WebAuthn yet, so the page's own
// navigator.credentials is called directly; a passkey scenario will click Tessera's pages.
//
// On http://localhost:PORT the authenticator makes a discoverable, user-verified credential
// for RP ID "localhost", returns it to a request that names no credential (passkey sign-in
// without a username), and refuses when user verification fails. The same server named
// http://127.0.0.1:PORT cannot be an RP at all, which is why the test kit names it localhost.

import assert from 'node:assert/strict';

import { launchChromium } from './lib/browser.mjs';
import { requireEnv, step } from './lib/env.mjs';
import { installVirtualAuthenticator } from './lib/webauthn.mjs';

const env = requireEnv('TESSERA_ISSUER', 'TESSERA_CHROMIUM');
const issuer = new URL(env.TESSERA_ISSUER);
assert.equal(issuer.hostname, 'localhost', 'the test kit serves browser tests on localhost');

/** Authenticator data flags (WebAuthn Level 2 §6.1): user present, user verified. */
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
/** COSE algorithm ES256 (RFC 9053 §2.1). */
const ES256 = -7;

/** Registers a passkey for `rpId` in the page; returns what the page saw, or its error. */
function createPasskey(page, rpId) {
  return page.evaluate(
    async ({ rpId, alg }) => {
      try {
        const credential = await navigator.credentials.create({
          publicKey: {
            rp: { id: rpId, name: 'Tessera' },
            user: { id: new TextEncoder().encode('user-1'), name: 'alice', displayName: 'Alice' },
            challenge: crypto.getRandomValues(new Uint8Array(32)),
            pubKeyCredParams: [{ type: 'public-key', alg }],
            authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
          },
        });
        const data = new Uint8Array(credential.response.getAuthenticatorData());
        return {
          id: credential.id,
          attachment: credential.authenticatorAttachment,
          flags: data[32],
        };
      } catch (error) {
        return { error: error.name };
      }
    },
    { rpId, alg: ES256 },
  );
}

/** Asks for any passkey of `rpId` with user verification; returns what the page saw. */
function usePasskey(page, rpId) {
  return page.evaluate(async (rpId) => {
    try {
      const assertion = await navigator.credentials.get({
        publicKey: {
          rpId,
          challenge: crypto.getRandomValues(new Uint8Array(32)),
          allowCredentials: [],
          userVerification: 'required',
        },
      });
      const data = new Uint8Array(assertion.response.authenticatorData);
      const user = new TextDecoder().decode(assertion.response.userHandle);
      return { id: assertion.id, user, flags: data[32] };
    } catch (error) {
      return { error: error.name };
    }
  }, rpId);
}

const browser = await launchChromium(env.TESSERA_CHROMIUM);
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Any page of Tessera's origin will do: its discovery document.
  await page.goto(new URL('/.well-known/openid-configuration', issuer).href);
  const authenticator = await installVirtualAuthenticator(page);

  const created = await createPasskey(page, 'localhost');
  assert.equal(created.error, undefined, `navigator.credentials.create: ${created.error}`);
  assert.equal(created.attachment, 'platform');
  assert.equal(created.flags & FLAG_UP, FLAG_UP, 'user present');
  assert.equal(created.flags & FLAG_UV, FLAG_UV, 'user verified');

  const [stored] = await authenticator.credentials();
  assert.equal((await authenticator.credentials()).length, 1);
  assert.equal(stored.rpId, 'localhost');
  assert.equal(stored.isResidentCredential, true, 'a discoverable credential');
  assert.equal(Buffer.from(stored.userHandle, 'base64').toString(), 'user-1');
  step('the virtual authenticator made a passkey for localhost');

  const used = await usePasskey(page, 'localhost');
  assert.deepEqual(
    { id: used.id, user: used.user, uv: used.flags & FLAG_UV },
    { id: created.id, user: 'user-1', uv: FLAG_UV },
  );
  step('the passkey signed a challenge without being named');

  await authenticator.setUserVerified(false);
  assert.deepEqual(await usePasskey(page, 'localhost'), { error: 'NotAllowedError' });
  step('a failed user verification refused the passkey');
  await authenticator.remove();

  // The same server by IP address: the effective domain is no valid domain.
  const byAddress = await context.newPage();
  const address = new URL(issuer);
  address.hostname = '127.0.0.1';
  await byAddress.goto(new URL('/.well-known/openid-configuration', address).href);
  const other = await installVirtualAuthenticator(byAddress);
  assert.deepEqual(await createPasskey(byAddress, '127.0.0.1'), { error: 'SecurityError' });
  assert.equal((await other.credentials()).length, 0);
  await other.remove();
  step('no passkey for an IP-address origin');
} finally {
  await browser.close();
}
