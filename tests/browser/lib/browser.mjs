// Headless Chromium from Debian, driven by playwright-core (which downloads no browser of its
// own), with what every scenario records: a screenshot of each page, and the security
// headers of each page Tessera serves.

import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { step } from './env.mjs';

/** Starts headless Chromium from `executablePath` (Debian's /usr/bin/chromium). */
export async function launchChromium(executablePath) {
  // Playwright adds --no-sandbox unless told otherwise, which CI needs: it runs as root.
  return chromium.launch({ executablePath, headless: true });
}

/** Screenshots of one run, numbered in the order taken; the folder is emptied first. */
export class Album {
  #dir;
  #taken = 0;

  constructor(dir) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    this.#dir = dir;
  }

  async shot(page, name) {
    this.#taken += 1;
    const file = `${String(this.#taken).padStart(2, '0')}-${name}.png`;
    await page.screenshot({ path: join(this.#dir, file), fullPage: true });
    step(`screenshot ${file}`);
  }
}

/** The directives of a Content-Security-Policy header, each a name and its sources. */
export function parseCsp(header) {
  const directives = new Map();
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    // CSP3 §2.2.1: names are case-insensitive, and a repeated directive is ignored.
    if (name && !directives.has(name.toLowerCase())) {
      directives.set(name.toLowerCase(), sources);
    }
  }
  return directives;
}

/**
 * Why a page's headers fall short of the hosted-page policy, or an empty list:
 * - scripts only from Tessera's own files, never inline or eval'd: `script-src`, or the
 *   `default-src` it falls back to (CSP3 §6.1), lists nothing but 'self' or 'none';
 * - no framing by anyone: `frame-ancestors 'none'` (CSP3 §6.4.2), and `X-Frame-Options:
 *   DENY` (RFC 7034 §2.1) for browsers that predate frame-ancestors.
 */
export function hostedPageFaults(headers) {
  const faults = [];
  const csp = headers['content-security-policy'];
  if (!csp) {
    return ['no Content-Security-Policy header'];
  }
  const directives = parseCsp(csp);

  const scripts = directives.get('script-src') ?? directives.get('default-src');
  if (!scripts) {
    faults.push('neither script-src nor default-src: scripts are not restricted');
  } else if (!scripts.every((source) => source === "'none'" || source === "'self'")) {
    faults.push(`scripts may come from ${scripts.join(' ')}, not only 'self'`);
  }

  const ancestors = directives.get('frame-ancestors');
  if (ancestors?.join(' ') !== "'none'") {
    faults.push(`frame-ancestors is ${ancestors?.join(' ') ?? 'missing'}, not 'none'`);
  }

  const frameOptions = headers['x-frame-options'];
  if (frameOptions?.toUpperCase() !== 'DENY') {
    faults.push(`X-Frame-Options is ${frameOptions ?? 'missing'}, not DENY`);
  }
  return faults;
}

/**
 * Watches every document a context loads from the issuer and checks its headers as the
 * browser received them. Redirects are not pages and are left out.
 */
export class HostedPageHeaders {
  #origin;
  #checks = [];
  #pending = [];

  constructor(issuer) {
    this.#origin = new URL(issuer).origin;
  }

  watch(context) {
    context.on('response', (response) => this.#pending.push(this.#check(response)));
  }

  async #check(response) {
    const request = response.request();
    const fromIssuer = new URL(response.url()).origin === this.#origin;
    const redirect = response.status() >= 300 && response.status() < 400;
    if (request.resourceType() !== 'document' || !fromIssuer || redirect) {
      return;
    }
    // allHeaders(): headers() leaves out some security-related headers.
    const headers = await response.allHeaders();
    const path = new URL(response.url()).pathname;
    this.#checks.push({ page: `${request.method()} ${path}`, faults: hostedPageFaults(headers) });
  }

  /**
   * Throws when a page broke the policy, or when the pages loaded differ from `expected`
   * (`METHOD /path` each, in any order), so that no hosted page goes unchecked.
   */
  async assertAll(expected) {
    await Promise.all(this.#pending);
    const failed = this.#checks.filter((check) => check.faults.length > 0);
    if (failed.length > 0) {
      const lines = failed.map((check) => `${check.page}: ${check.faults.join('; ')}`);
      throw new Error(`hosted pages without the security headers:\n${lines.join('\n')}`);
    }
    const seen = this.#checks.map((check) => check.page);
    assert.deepEqual([...seen].sort(), [...expected].sort(), 'the hosted pages loaded');
    step(`${seen.length} hosted page loads had the CSP and no-framing headers: ${seen.join(', ')}`);
  }
}
