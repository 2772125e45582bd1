// A clickjacking attempt: another site puts a hosted page in a frame. That site is a real
// server on 127.0.0.1 (port 0, stopped with the scenario), not a page answered inside the
// browser: Chromium's Local Network Access checks refuse a frame of localhost in a page
// whose address it does not know, which would hide whether Tessera's own headers work.

import { createServer } from 'node:http';

/** The name of the frame on the framing page. */
const FRAME_NAME = 'hosted';

function escapeHtml(text) {
  const entities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  return text.replace(/[&<>"']/g, (c) => entities[c]);
}

/** Starts the other site; `framingUrl(src)` is its page that frames `src`. */
export async function startFramingSite() {
  const server = createServer((request, response) => {
    const query = new URL(request.url, 'http://framing.invalid').searchParams;
    const src = query.get('src') ?? 'about:blank';
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>Another site</title><h1>Another site</h1>
<iframe name="${FRAME_NAME}" src="${escapeHtml(src)}" width="480" height="600"></iframe>`);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    framingUrl(src) {
      const url = new URL('/', origin);
      url.searchParams.set('src', src);
      return url.href;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Opens `framingUrl` in `page` and reports what became of the frame of a page on
 * `targetOrigin`: the network error of its document, the browser's message about why it
 * refused it, the URL the frame shows instead, and how many password fields it shows.
 */
export async function frameOutcome(page, framingUrl, targetOrigin) {
  const failed = page.waitForEvent('requestfailed', {
    predicate: (request) =>
      request.resourceType() === 'document' && new URL(request.url()).origin === targetOrigin,
    timeout: 10_000,
  });
  const refusal = page.waitForEvent('console', {
    predicate: (message) => /refused|blocked/i.test(message.text()),
    timeout: 10_000,
  });
  await page.goto(framingUrl);
  const [request, message] = await Promise.all([failed, refusal]);

  const frame = page.frame({ name: FRAME_NAME });
  return {
    error: request.failure()?.errorText,
    refusal: message.text(),
    frameUrl: frame?.url(),
    passwordFields: frame ? await frame.locator('input[type=password]').count() : 0,
  };
}
