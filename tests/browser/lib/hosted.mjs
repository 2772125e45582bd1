// Tessera's hosted pages as a person meets them: each page is known by its heading, read,
// filled in and submitted by its button, the way someone with an authenticator app would.

import assert from 'node:assert/strict';

import { step } from './env.mjs';
import {
  base32Decode,
  DIGITS,
  STEP_SECONDS,
  timeStep,
  totpAtStep,
  unixNow,
  waitForStepAfter,
} from './totp.mjs';

/** Each hosted page's heading (templates/*.html) and the name the screenshots use. */
const PAGES = new Map([
  ['Sign in', 'login'],
  ['Set up an authenticator', 'enrol'],
  ['Save your recovery codes', 'recovery-codes'],
  ["Verify it's you", 'factor'],
  ['Allow access?', 'consent'],
  ['Sign out?', 'logout'],
  ['You are signed out', 'signed-out'],
  ['Something went wrong', 'error'],
]);

/** Recovery codes shown after enrolment. */
const RECOVERY_CODES = 10;

/** More pages than any sign-in has: a loop between pages, not a login. */
const MAX_PAGES = 8;

/** Which hosted page `page` shows; throws, with the page's text, on anything else. */
export async function pageKind(page) {
  const heading = await page
    .locator('h1')
    .first()
    .textContent({ timeout: 5_000 })
    .catch(() => null);
  const kind = PAGES.get(heading?.trim());
  if (!kind) {
    const text = await page.locator('body').innerText().catch(() => '(no body)');
    throw new Error(`not a hosted page at ${page.url()}: ${text}`);
  }
  return kind;
}

/** Clicks `target` and waits for the page it leads to. */
export async function follow(page, target) {
  await Promise.all([page.waitForEvent('load'), target.click()]);
}

/** Someone with a username, a password and, once enrolled, an authenticator app. */
export class Person {
  secret = null;
  /** The time step of the last code used: codes are single use (RFC 6238 §5.2). */
  lastStep = -1;

  constructor(username, password) {
    this.username = username;
    this.password = password;
  }

  /** Reads the authenticator setup off the enrolment page, as scanning the QR code would. */
  async scan(page) {
    await assertVisible(page.locator('figure.qr svg'), 'the QR code');
    const uri = new URL((await page.locator('.secret code').textContent()).trim());

    // The Key Uri Format (otpauth://totp/LABEL?secret=...) with the parameters our codes
    // assume, written out: SHA-1, 6 digits, 30-second steps (RFC 6238 §4 and §5.3).
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    const label = decodeURIComponent(uri.pathname);
    assert.ok(label.endsWith(`:${this.username}`), `the label ${label} names the account`);
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
    assert.equal(uri.searchParams.get('digits'), String(DIGITS));
    assert.equal(uri.searchParams.get('period'), String(STEP_SECONDS));

    this.secret = base32Decode(uri.searchParams.get('secret'));
    // RFC 4226 §4 R6 asks for at least 128 bits and recommends 160.
    assert.equal(this.secret.length, 20, 'a 160-bit secret');
  }

  /** The code the app shows now, after waiting for a step later than the last one used. */
  async nextCode() {
    assert.ok(this.secret, `${this.username} has no authenticator yet`);
    let now = timeStep(unixNow());
    if (now <= this.lastStep) {
      step(`${this.username} waits for the next 30-second step: the last code is spent`);
      now = await waitForStepAfter(this.lastStep);
    }
    this.lastStep = now;
    return totpAtStep(this.secret, now);
  }
}

async function assertVisible(locator, what) {
  assert.ok(await locator.isVisible(), `${what} is not visible`);
}

/** What a person does on each page while signing in. */
const ACTIONS = {
  async login(page, person) {
    await page.locator('#username').fill(person.username);
    await page.locator('#password').fill(person.password);
    await follow(page, page.getByRole('button', { name: 'Sign in', exact: true }));
  },

  async enrol(page, person) {
    await person.scan(page);
    await page.locator('#code').fill(await person.nextCode());
    await follow(page, page.getByRole('button', { name: 'Turn on', exact: true }));
  },

  async 'recovery-codes'(page) {
    const codes = await page.locator('ul.codes li code').allTextContents();
    assert.equal(codes.length, RECOVERY_CODES, `recovery codes shown: ${codes.length}`);
    assert.equal(new Set(codes).size, RECOVERY_CODES, 'the recovery codes differ');
    await follow(page, page.getByRole('link', { name: 'I saved them, continue', exact: true }));
  },

  async factor(page, person) {
    await page.locator('#code').fill(await person.nextCode());
    await follow(page, page.getByRole('button', { name: 'Verify', exact: true }));
  },

  async consent(page) {
    await follow(page, page.getByRole('button', { name: 'Allow', exact: true }));
  },
};

/**
 * Runs one sign-in: the app's authorization request, then every hosted page until the
 * browser is sent to the app's redirect URI. Screenshots each page as `<label>-<page>`.
 * `actions` replaces what the person does on the pages it names (a passkey instead of a
 * password or a code, say), as `async (page, person) => {}` each.
 * Returns the pages seen, in order, and what the app made of the response.
 */
export async function signIn({ page, app, person, album, label, actions = {} }) {
  const request = await app.authorizationRequest();
  await page.goto(request.url);

  const seen = [];
  while (!app.isRedirect(page.url())) {
    const kind = await pageKind(page);
    seen.push(kind);
    await album.shot(page, `${label}-${kind}`);
    const action = actions[kind] ?? ACTIONS[kind];
    if (!action || seen.length > MAX_PAGES) {
      const text = await page.locator('main').innerText();
      const path = seen.join(' > ');
      throw new Error(`sign-in of ${person.username} stopped at ${kind} (${path}): ${text}`);
    }
    await action(page, person);
  }
  await album.shot(page, `${label}-back-at-app`);
  step(`${person.username} signed in through ${seen.join(' > ')}`);

  const { idToken, claims } = await app.callback(page.url(), request.checks);
  return { seen, idToken, claims };
}
