// What an authenticator app does with the secret it scanned: RFC 6238 time-based codes
// (HMAC-SHA-1, 30-second steps counted from the Unix epoch, 6 digits), built on the HOTP
// truncation of RFC 4226 with node:crypto's HMAC.

import { createHmac } from 'node:crypto';

/** RFC 6238 §4: X, the length of a time step in seconds. */
export const STEP_SECONDS = 30;

/** Digits in the codes Tessera asks for (RFC 4226 §5.3 allows 6 to 8). */
export const DIGITS = 6;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Decodes RFC 4648 §6 base32, the encoding of the `secret` parameter in an otpauth URI.
 * Trailing `=` padding is optional there; any other character outside the alphabet throws.
 */
export function base32Decode(text) {
  const symbols = text.toUpperCase().replace(/=+$/, '');
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const symbol of symbols) {
    const value = BASE32_ALPHABET.indexOf(symbol);
    if (value < 0) {
      throw new Error(`not a base32 character: ${JSON.stringify(symbol)}`);
    }
    // At most 12 bits are pending (7 left over plus 5 new): keep only those.
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 §5.3: the HOTP value of `key` for the 8-byte big-endian `counter`. */
export function hotp(key, counter, digits = DIGITS) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const hash = createHmac('sha1', key).update(message).digest();

  // Dynamic truncation: the low nibble of the last byte picks four bytes, top bit dropped.
  const offset = hash[hash.length - 1] & 0x0f;
  const binary = hash.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 §4.2: the time step that `unixSeconds` falls in. */
export function timeStep(unixSeconds) {
  return Math.floor(unixSeconds / STEP_SECONDS);
}

/** The code an authenticator app shows during time step `step`. */
export function totpAtStep(key, step, digits = DIGITS) {
  return hotp(key, step, digits);
}

/** Seconds since the Unix epoch, as the server's clock on this same machine reads them. */
export function unixNow() {
  return Date.now() / 1000;
}

/**
 * Waits until the clock is in a step after `step`: a code is accepted once, so the next
 * login needs a code of a later step (RFC 6238 §5.2), as a person would wait for their app.
 */
export async function waitForStepAfter(step) {
  const next = (step + 1) * STEP_SECONDS;
  const wait = next - unixNow();
  if (wait > 0) {
    // A little past the boundary, so the server's clock is surely in the new step too.
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 250));
  }
  return timeStep(unixNow());
}
