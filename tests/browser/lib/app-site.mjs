// The app's own pages, at the origin of its redirect URI. Nothing listens there: Chromium's
// requests to that origin are answered inside the browser, so the redirect back to the app
// (with its code) is seen without a server of our own and without a connection attempt.
//
// This uses the DevTools protocol's Fetch domain rather than playwright's page.route: routes
// see only the first request of a redirect chain, and the way back to the app is always the
// target of Tessera's 303.

import { step } from './env.mjs';

/** The app page's title when its one inline script ran, and when it did not. */
export const SCRIPTS_RAN = 'App (scripts ran)';
export const SCRIPTS_OFF = 'App (scripts off)';

function appPage(url) {
  // The script tells the scenario whether the context really runs scripts. The page names
  // only the path: the query holds the authorization code.
  const path = url.pathname.replace(/[^\w/-]/g, '');
  return `<!doctype html><title>${SCRIPTS_OFF}</title>
<script>document.title = ${JSON.stringify(SCRIPTS_RAN)};</script>
<h1>The app</h1><p>Arrived at ${path}</p>`;
}

/** Answers every request of `page` to `origin` with the app's pages. */
export async function serveAppSite(page, origin) {
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Fetch.requestPaused', ({ requestId, request }) =>
    cdp
      .send('Fetch.fulfillRequest', {
        requestId,
        responseCode: 200,
        responseHeaders: [{ name: 'Content-Type', value: 'text/html; charset=utf-8' }],
        body: Buffer.from(appPage(new URL(request.url))).toString('base64'),
      })
      .catch((error) => step(`the app page for ${request.url} was not served: ${error.message}`)),
  );
  await cdp.send('Fetch.enable', {
    patterns: [{ urlPattern: `${origin}/*`, requestStage: 'Request' }],
  });
}
