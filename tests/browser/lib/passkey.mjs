// What a person with a passkey does on Tessera's hosted pages: the buttons of the passkey
// sections (templates/login.html, factor.html, enrol.html) start a WebAuthn ceremony in
// static/webauthn.js, which posts the result in the section's form. The authenticator that
// answers is the page's virtual one (lib/webauthn.mjs).

import assert from 'node:assert/strict';

/** How long a ceremony may take before the page should have moved on. */
const CEREMONY_MS = 15_000;

/** The passkey section's message line; empty until an attempt fails. */
function statusLine(page) {
  return page.locator('section[data-webauthn] [data-webauthn-status]');
}

/** The text of the passkey section's message line, or '' when the page has none. */
export async function passkeyStatus(page) {
  const line = statusLine(page);
  if ((await line.count()) === 0) {
    return '';
  }
  return (await line.textContent()).trim();
}

/** The passkey section's button `name`, which must be shown (the script ran and unhid it). */
async function shownButton(page, name) {
  const button = page.getByRole('button', { name, exact: true });
  assert.ok(await button.isVisible(), `the button "${name}" is not shown at ${page.url()}`);
  return button;
}

/**
 * Clicks `button` and waits for the page the ceremony's form leads to. Throws with the
 * page's message when the ceremony failed in the browser (no page follows) or when Tessera
 * refused its result (the page comes back with the message).
 */
async function ceremonyLeadsOn(page, button) {
  const loaded = page.waitForEvent('load', { timeout: CEREMONY_MS });
  await button.click();
  try {
    await loaded;
  } catch {
    const said = (await passkeyStatus(page)) || '(no message)';
    throw new Error(`the passkey ceremony at ${page.url()} led nowhere; the page says: ${said}`);
  }
  const said = await passkeyStatus(page);
  assert.equal(said, '', `Tessera refused the passkey at ${page.url()}: ${said}`);
}

/** On the enrolment page: registers a passkey named `name` instead of an authenticator app. */
export async function enrolPasskey(page, name) {
  await page.locator('#passkey-name').fill(name);
  await ceremonyLeadsOn(page, await shownButton(page, 'Set up a passkey or security key'));
}

/** On the login page: signs in with a passkey alone, through the button. */
export async function passkeyButton(page) {
  await ceremonyLeadsOn(page, await shownButton(page, 'Sign in with a passkey'));
}

/** On the second-factor page: answers with the person's passkey instead of a code. */
export async function passkeyFactor(page) {
  await ceremonyLeadsOn(page, await shownButton(page, 'Use your passkey or security key'));
}

/**
 * On the login page: clicks the button, expects the browser to refuse the ceremony, and
 * returns the message the page then shows. Fails if the page posted anything: a ceremony
 * the authenticator refused must not reach Tessera.
 */
export async function refusedPasskeyButton(page) {
  const posted = [];
  const onRequest = (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/passkey-login') {
      posted.push(request.url());
    }
  };
  page.on('request', onRequest);
  try {
    await (await shownButton(page, 'Sign in with a passkey')).click();
    await page
      .locator('section[data-webauthn] [data-webauthn-status]:not(:empty)')
      .waitFor({ state: 'attached', timeout: CEREMONY_MS });
  } finally {
    page.off('request', onRequest);
  }
  assert.deepEqual(posted, [], 'the refused ceremony posted a credential');
  return passkeyStatus(page);
}
