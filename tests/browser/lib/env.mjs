// The scenario's inputs, set by the Rust test that started Tessera (tests/tests/browser.rs),
// and the one process setting every scenario shares.

import { setDefaultResultOrder } from 'node:dns';

// The test kit's Tessera listens on 127.0.0.1 only, under the name localhost. Node 18 takes
// the first address /etc/hosts gives for it, often ::1, and does not try the next one as
// Node 20 does; the app's requests would then be refused.
setDefaultResultOrder('ipv4first');

/** The value of each named environment variable; throws naming every one that is missing. */
export function requireEnv(...names) {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `missing environment: ${missing.join(', ')}; run the scenario through ` +
        '`cargo test -p tessera-e2e --test browser`, which starts Tessera and sets them',
    );
  }
  return Object.fromEntries(names.map((name) => [name, process.env[name]]));
}

/** A progress line for the test's output; never carries a secret. */
export function step(message) {
  console.log(`[browser] ${message}`);
}
