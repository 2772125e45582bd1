// Scenario: passkeys through Tessera's hosted pages in headless Chromium, with openid-client
// as the app and Chromium's virtual platform authenticator (lib/webauthn.mjs: CTAP2,
// internal transport, resident keys, user verification on) as the person's device.
// Started by tests/tests/browser.rs, which sets the environment.
//
// carol's first login to a client that requires a second factor registers a passkey on the
// enrolment page instead of an authenticator app, sees her recovery codes, and reaches the
// app; the app signs her out. She then signs in with the passkey alone, from the browser's
// autofill and from the login page's button, and with password plus passkey on the factor
// page. With user verification failing on her device, the passkey button gets her
// nowhere: the page says so and no session starts. dave, in another context, still signs in
// with password and TOTP beside the passkey offer. Every hosted page must send the CSP and
// refuse framing.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { App } from './lib/app.mjs';
import { serveAppSite } from './lib/app-site.mjs';
import { Album, HostedPageHeaders, launchChromium } from './lib/browser.mjs';
import { requireEnv, step } from './lib/env.mjs';
import { pageKind, Person, signIn } from './lib/hosted.mjs';
import {
  enrolPasskey,
  passkeyButton,
  passkeyFactor,
  refusedPasskeyButton,
} from './lib/passkey.mjs';
import { installVirtualAuthenticator } from './lib/webauthn.mjs';

const env = requireEnv(
  'TESSERA_ISSUER',
  'TESSERA_CLIENT_ID',
  'TESSERA_CLIENT_SECRET',
  'TESSERA_REDIRECT_URI',
  'TESSERA_POST_LOGOUT_REDIRECT_URI',
  'TESSERA_USERNAME',
  'TESSERA_TOTP_USERNAME',
  'TESSERA_PASSWORD',
  'TESSERA_CHROMIUM',
  'TESSERA_SCREENSHOTS',
);

// The ID token's amr (RFC 8176 §2) and acr, as README's Passkeys and Authentication classes
// rows document them. Tessera verifies no attestation, so it cannot know that a key lives in
// hardware: every key is "swk" (a software-secured key), whatever its BE flag says. UV is set
// because user verification succeeds, hence "user". Either login is two factors ("mfa"): a
// password and a key, or a key unlocked by the person's fingerprint or PIN. A key in a
// multi-factor login gives the acr "phr" (OpenID Connect EAP ACR Values 1.0 §2); password
// and TOTP give Tessera's own "urn:tessera:acr:mfa".
/** Password, then a key that verified the person. */
const PASSWORD_AND_KEY = ['pwd', 'swk', 'user', 'mfa'];
/** A key alone, which verified the person: no "pwd". */
const KEY_ALONE = ['swk', 'user', 'mfa'];
/** Password and a one-time password. */
const PASSWORD_AND_TOTP = ['pwd', 'otp', 'mfa'];
const ACR_KEY = 'phr';
const ACR_TWO_FACTORS = 'urn:tessera:acr:mfa';

/** What the login page's script says when the browser refused the ceremony. */
const PASSKEY_NOT_USED =
  'Your passkey could not be used. Try again, or sign in with your password.';

/** The session cookie on a plain-http loopback issuer (no `__Host-` prefix without TLS). */
const SESSION_COOKIE = 'tessera-session';

const app = await App.discover({
  issuer: env.TESSERA_ISSUER,
  clientId: env.TESSERA_CLIENT_ID,
  clientSecret: env.TESSERA_CLIENT_SECRET,
  redirectUri: env.TESSERA_REDIRECT_URI,
});
const appOrigin = new URL(env.TESSERA_REDIRECT_URI).origin;
const album = new Album(env.TESSERA_SCREENSHOTS);
const headers = new HostedPageHeaders(env.TESSERA_ISSUER);

const browser = await launchChromium(env.TESSERA_CHROMIUM);
try {
  const carolContext = await browser.newContext();
  const daveContext = await browser.newContext();
  headers.watch(carolContext);
  headers.watch(daveContext);
  const carol = new Person(env.TESSERA_USERNAME, env.TESSERA_PASSWORD);
  const dave = new Person(env.TESSERA_TOTP_USERNAME, env.TESSERA_PASSWORD);
  const carolPage = await appPage(carolContext);
  const device = await installVirtualAuthenticator(carolPage);

  // 1. Enrolment with a passkey, then recovery codes and consent.
  const first = await signIn({
    page: carolPage,
    app,
    person: carol,
    album,
    label: 'carol-first',
    actions: { enrol: (page) => enrolPasskey(page, 'Laptop') },
  });
  assert.deepEqual(first.seen, ['login', 'enrol', 'recovery-codes', 'consent']);
  assert.deepEqual(first.claims.amr, PASSWORD_AND_KEY);
  assert.equal(first.claims.acr, ACR_KEY);
  const held = await device.credentials();
  assert.equal(held.length, 1, 'one passkey on the device');
  assert.equal(held[0].rpId, 'localhost', "the RP ID is the issuer's host");
  assert.equal(held[0].isResidentCredential, true, 'a discoverable credential');
  assert.notEqual(held[0].backupEligibility, true, 'the device keeps its keys to itself');
  step(`carol's device holds a passkey for ${held[0].rpId}`);
  await signOutThroughApp(carolPage, first.idToken, 'carol-first');

  // 2. The passkey alone, through the username field's autofill.
  const byAutofill = await signInByAutofill(carolPage, 'carol-autofill');
  assert.deepEqual(byAutofill.claims.amr, KEY_ALONE);
  assert.equal(byAutofill.claims.acr, ACR_KEY);
  assert.equal(byAutofill.claims.sub, first.claims.sub);
  await signOutThroughApp(carolPage, byAutofill.idToken, 'carol-autofill');

  // 3. The passkey alone, from the login page's button, in a browser that offers no
  // passkeys in autofill (else Chromium would answer the autofill request first, as above).
  await withoutConditionalMediation(carolPage);
  const byButton = await signIn({
    page: carolPage,
    app,
    person: carol,
    album,
    label: 'carol-button',
    actions: { login: passkeyButton },
  });
  assert.deepEqual(byButton.seen, ['login'], 'consent is remembered; no factor page');
  assert.deepEqual(byButton.claims.amr, KEY_ALONE);
  assert.equal(byButton.claims.acr, ACR_KEY);
  assert.equal(byButton.claims.sub, first.claims.sub);
  await signOutThroughApp(carolPage, byButton.idToken, 'carol-button');

  // 4. Password, then the passkey on the factor page.
  const twoSteps = await signIn({
    page: carolPage,
    app,
    person: carol,
    album,
    label: 'carol-factor',
    actions: { factor: passkeyFactor },
  });
  assert.deepEqual(twoSteps.seen, ['login', 'factor']);
  assert.deepEqual(twoSteps.claims.amr, PASSWORD_AND_KEY);
  assert.equal(twoSteps.claims.acr, ACR_KEY);
  assert.equal(twoSteps.claims.sub, first.claims.sub);
  await signOutThroughApp(carolPage, twoSteps.idToken, 'carol-factor');

  // 5. User verification fails (a wrong fingerprint): no passwordless sign-in.
  await device.setUserVerified(false);
  await refusedWithoutUserVerification(carolPage, carolContext);
  await device.remove();

  // 6. Password and TOTP for someone else, beside the passkey offer.
  const daveFirst = await signIn({
    page: await appPage(daveContext),
    app,
    person: dave,
    album,
    label: 'dave-first',
  });
  assert.deepEqual(daveFirst.seen, ['login', 'enrol', 'recovery-codes', 'consent']);
  assert.deepEqual(daveFirst.claims.amr, PASSWORD_AND_TOTP);
  assert.equal(daveFirst.claims.acr, ACR_TWO_FACTORS);
  assert.notEqual(daveFirst.claims.sub, first.claims.sub);

  await headers.assertAll([
    // carol's enrolment: the passkey's answer shows the recovery codes.
    'GET /login',
    'GET /factor',
    'POST /passkey-enrol',
    'GET /consent',
    'GET /login', // autofill
    'GET /login', // the button
    'GET /login', // password and passkey
    'GET /factor',
    'GET /login', // the refused passkey
    'GET /login', // and the app's next request
    // dave's enrolment with TOTP.
    'GET /login',
    'GET /factor',
    'POST /factor',
    'GET /consent',
  ]);
  step('done');
} finally {
  await browser.close();
}

/** A new tab in `context` in which the app's origin answers. */
async function appPage(context) {
  const page = await context.newPage();
  await serveAppSite(page, appOrigin);
  return page;
}

/** RP-Initiated Logout 1.0 §2 with the ID token as hint: back at the app, no session left. */
async function signOutThroughApp(page, idToken, label) {
  const state = randomBytes(16).toString('base64url');
  await page.goto(
    app.endSessionUrl({
      id_token_hint: idToken,
      post_logout_redirect_uri: env.TESSERA_POST_LOGOUT_REDIRECT_URI,
      state,
    }),
  );
  const landed = new URL(page.url());
  assert.equal(`${landed.origin}${landed.pathname}`, env.TESSERA_POST_LOGOUT_REDIRECT_URI);
  assert.equal(landed.searchParams.get('state'), state);
  assert.equal(await sessionCookie(page.context()), undefined, 'the session cookie is gone');
  await album.shot(page, `${label}-signed-out-at-app`);
  step(`${label}: signed out through the end-session endpoint`);
}

/** The value of Tessera's session cookie in `context`, if it holds one. */
async function sessionCookie(context) {
  const cookies = await context.cookies(env.TESSERA_ISSUER);
  return cookies.find((cookie) => cookie.name === SESSION_COOKIE)?.value;
}

/**
 * The login page asks for a passkey for the username field's autofill as soon as it loads
 * (conditional mediation, WebAuthn Level 3 §5.1.3 and §5.1.4). The autofill list is the
 * browser's own interface, which no test can click; with that interface switched off for
 * the virtual authenticator (`enableUI: false`), Chromium answers the conditional request at
 * once with the discoverable credential, as if the person had picked it there. So the login
 * page posts the assertion without a click or a keystroke and the browser lands at the app.
 * The page is gone before it can be photographed; the button's login page looks the same.
 */
async function signInByAutofill(page, label) {
  const request = await app.authorizationRequest();
  const posted = [];
  const onRequest = (sent) => {
    if (sent.method() === 'POST' && new URL(sent.url()).pathname === '/passkey-login') {
      posted.push(sent.url());
    }
  };
  page.on('request', onRequest);

  await page.goto(request.url, { waitUntil: 'commit' });
  await page.waitForURL((url) => app.isRedirect(url.href));
  page.off('request', onRequest);
  assert.equal(posted.length, 1, 'the login page posted one assertion');
  await album.shot(page, `${label}-back-at-app`);
  step(`${label}: signed in from autofill, without a click`);
  return app.callback(page.url(), request.checks);
}

/**
 * Makes `page` a browser without passkeys in autofill, from its next document on:
 * webauthn.js then asks for no conditional request and the button is the only way.
 */
async function withoutConditionalMediation(page) {
  await page.addInitScript(() => {
    if (window.PublicKeyCredential) {
      Object.defineProperty(PublicKeyCredential, 'isConditionalMediationAvailable', {
        value: undefined,
        configurable: true,
      });
    }
  });
}

/**
 * With user verification failing, the authenticator refuses the ceremony that Tessera's
 * options require it for (userVerification "required", WebAuthn Level 2 §6.3.3 step 7):
 * the login page says the passkey could not be used, nothing is posted, no session starts,
 * and the next request of the app still meets the login page.
 */
async function refusedWithoutUserVerification(page, context) {
  const request = await app.authorizationRequest();
  await page.goto(request.url);
  assert.equal(await pageKind(page), 'login');
  const message = await refusedPasskeyButton(page);
  assert.equal(message, PASSKEY_NOT_USED);
  assert.equal(new URL(page.url()).pathname, '/login', 'still on the login page');
  assert.equal(await sessionCookie(context), undefined, 'no session after the refusal');
  await album.shot(page, 'carol-unverified-login-refused');

  await page.goto((await app.authorizationRequest()).url);
  assert.equal(await pageKind(page), 'login', 'without a session the app meets the login page');
  step(`carol without user verification: "${message}"`);
}
