// Scenario: password and TOTP through Tessera's hosted pages in headless Chromium, with
// openid-client as the app. Started by tests/tests/browser.rs, which sets the environment.
//
// alice, with scripts on: her first login enrols an authenticator (scan, code, recovery
// codes, consent); the app signs her out through the end-session endpoint with her ID token
// as hint; she logs in again with password and a code of a later time step. bob does the
// same in a second context with JavaScript disabled, and signs out on Tessera's
// confirmation page. Every ID token must carry amr ["pwd", "otp", "mfa"]. bob's account page,
// without scripts, lists his browser as this device and ends its session. Every hosted page
// must send the CSP and refuse framing, and a framed login page must not render.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { App } from './lib/app.mjs';
import { SCRIPTS_OFF, SCRIPTS_RAN, serveAppSite } from './lib/app-site.mjs';
import { Album, HostedPageHeaders, launchChromium } from './lib/browser.mjs';
import { requireEnv, step } from './lib/env.mjs';
import { frameOutcome, startFramingSite } from './lib/framing.mjs';
import { follow, pageKind, Person, signIn } from './lib/hosted.mjs';

const env = requireEnv(
  'TESSERA_ISSUER',
  'TESSERA_CLIENT_ID',
  'TESSERA_CLIENT_SECRET',
  'TESSERA_REDIRECT_URI',
  'TESSERA_POST_LOGOUT_REDIRECT_URI',
  'TESSERA_USERNAME',
  'TESSERA_NO_SCRIPT_USERNAME',
  'TESSERA_PASSWORD',
  'TESSERA_CHROMIUM',
  'TESSERA_SCREENSHOTS',
);

/** RFC 8176 §2: a password ("pwd"), a one-time password ("otp"), more than one factor ("mfa"). */
const PASSWORD_AND_TOTP = ['pwd', 'otp', 'mfa'];

/** The pages of a first login to a client that requires a factor and asks for consent. */
const FIRST_LOGIN = ['login', 'enrol', 'recovery-codes', 'consent'];
/** The pages of a later login: consent was given once and is remembered. */
const LATER_LOGIN = ['login', 'factor'];

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
  const scripted = await browser.newContext();
  const unscripted = await browser.newContext({ javaScriptEnabled: false });
  headers.watch(scripted);
  headers.watch(unscripted);
  const alice = new Person(env.TESSERA_USERNAME, env.TESSERA_PASSWORD);
  const bob = new Person(env.TESSERA_NO_SCRIPT_USERNAME, env.TESSERA_PASSWORD);
  const alicePage = await appPage(scripted);
  const bobPage = await appPage(unscripted);

  const aliceFirst = await logIn(alicePage, alice, 'alice-first');
  assert.deepEqual(aliceFirst.seen, FIRST_LOGIN);
  assert.deepEqual(aliceFirst.claims.amr, PASSWORD_AND_TOTP);
  assert.equal(await alicePage.title(), SCRIPTS_RAN, 'the first context runs scripts');

  await signOutThroughApp(alicePage, aliceFirst.idToken);

  const bobFirst = await logIn(bobPage, bob, 'noscript-bob-first');
  assert.deepEqual(bobFirst.seen, FIRST_LOGIN);
  assert.deepEqual(bobFirst.claims.amr, PASSWORD_AND_TOTP);
  assert.equal(await bobPage.title(), SCRIPTS_OFF, 'the second context runs no script');

  await signOutOnConfirmationPage(bobPage);

  // Both sessions are over, so each login starts again at the password.
  const aliceAgain = await logIn(alicePage, alice, 'alice-again');
  assert.deepEqual(aliceAgain.seen, LATER_LOGIN);
  assert.deepEqual(aliceAgain.claims.amr, PASSWORD_AND_TOTP);
  assert.equal(aliceAgain.claims.sub, aliceFirst.claims.sub);
  assert.ok(aliceAgain.claims.auth_time > aliceFirst.claims.auth_time, 'a new authentication');

  const bobAgain = await logIn(bobPage, bob, 'noscript-bob-again');
  assert.deepEqual(bobAgain.seen, LATER_LOGIN);
  assert.deepEqual(bobAgain.claims.amr, PASSWORD_AND_TOTP);
  assert.equal(bobAgain.claims.sub, bobFirst.claims.sub);
  assert.notEqual(bobAgain.claims.sub, aliceAgain.claims.sub);

  await devicesOnAccountPage(bobPage);

  await framedLoginDoesNotRender(await scripted.newPage());
  await errorPage(await unscripted.newPage());

  const firstLogin = ['GET /login', 'GET /factor', 'POST /factor', 'GET /consent'];
  const laterLogin = ['GET /login', 'GET /factor'];
  await headers.assertAll([
    ...firstLogin, // alice
    ...firstLogin, // bob
    'GET /logout', // bob's confirmation
    'POST /logout', // and the signed-out page
    ...laterLogin, // alice
    ...laterLogin, // bob
    'GET /account', // bob's devices
    'POST /account', // and the signed-out page after ending his session
    'GET /login', // the framed one
    'GET /authorize', // the error page
  ]);
  step('done');
} finally {
  await browser.close();
}

/** One sign-in through the app, screenshots labelled `label`. */
function logIn(page, person, label) {
  return signIn({ page, app, person, album, label });
}

/** A new tab in `context` in which the app's origin answers. */
async function appPage(context) {
  const page = await context.newPage();
  await serveAppSite(page, appOrigin);
  return page;
}

/**
 * RP-Initiated Logout 1.0 §2 with the ID token as hint and a registered
 * post_logout_redirect_uri: no confirmation, and the app gets its state back (§3).
 */
async function signOutThroughApp(page, idToken) {
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
  await album.shot(page, 'alice-signed-out-at-app');
  step('alice signed out through the end-session endpoint');
}

/** Without a hint, Tessera asks the person to confirm (RP-Initiated Logout 1.0 §2). */
async function signOutOnConfirmationPage(page) {
  await page.goto(app.endSessionUrl({}));
  assert.equal(await pageKind(page), 'logout');
  await album.shot(page, 'noscript-bob-logout');
  await follow(page, page.getByRole('button', { name: 'Sign out', exact: true }));
  assert.equal(await pageKind(page), 'signed-out');
  await album.shot(page, 'noscript-bob-signed-out');
  step('bob signed out on the confirmation page');
}

/**
 * The account page lists the one browser bob signed in from (headless Chromium says it is
 * Chrome on Linux), marked as this device, with its one live session; its form needs no
 * script, and ending that session signs him out.
 */
async function devicesOnAccountPage(page) {
  await page.goto(new URL('/account', env.TESSERA_ISSUER).href);
  const devices = page.locator('section[aria-labelledby="devices-heading"]');
  const entries = devices.locator('li.device');
  assert.equal(await entries.count(), 1, 'one browser, one device');
  const heading = (await entries.first().locator('h3').innerText()).trim();
  assert.match(heading, /^Chrome \d+ on Linux\s+This device$/);
  const sessions = entries.first().locator('li.session');
  assert.equal(await sessions.count(), 1, 'the session of the first login ended at logout');
  await album.shot(page, 'noscript-bob-account-devices');
  step(`the account page lists "${heading}"`);

  const end = sessions.first().getByRole('button', { name: 'End this session and sign out' });
  await follow(page, end);
  assert.equal(await pageKind(page), 'signed-out');
  step('bob ended his own session from the account page');
}

/**
 * Another site frames a login page. Chromium must refuse the document for its
 * `frame-ancestors 'none'` (CSP3 §6.4.2; X-Frame-Options, RFC 7034, is the fallback that
 * CSP-aware browsers ignore when frame-ancestors is present) and show no password field.
 */
async function framedLoginDoesNotRender(page) {
  const site = await startFramingSite();
  try {
    const { url } = await app.authorizationRequest();
    const issuerOrigin = new URL(env.TESSERA_ISSUER).origin;
    const outcome = await frameOutcome(page, site.framingUrl(url), issuerOrigin);
    assert.equal(outcome.error, 'net::ERR_BLOCKED_BY_RESPONSE', 'why the frame failed');
    assert.match(outcome.refusal, /frame-ancestors 'none'/);
    assert.equal(outcome.passwordFields, 0, `a password field in the frame at ${outcome.frameUrl}`);
    await album.shot(page, 'framed-login-refused');
    step(`a framed login page was refused: ${outcome.refusal.trim()}`);
  } finally {
    await site.close();
  }
}

/** A request Tessera refuses is shown on its error page, which keeps the headers too. */
async function errorPage(page) {
  const unknownClient = new URL('/authorize', env.TESSERA_ISSUER);
  unknownClient.searchParams.set('client_id', 'no-such-client');
  unknownClient.searchParams.set('response_type', 'code');
  const response = await page.goto(unknownClient.href);
  assert.equal(response.status(), 400);
  assert.equal(await pageKind(page), 'error');
  await album.shot(page, 'error-page');
}
