// The TOTP helper against the published test vectors, so that a failed browser login points
// at Tessera and not at the code the test typed. Run with `node --test`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { base32Decode, hotp, timeStep, totpAtStep } from './totp.mjs';

// RFC 4226 Appendix D and RFC 6238 Appendix B: the ASCII string "12345678901234567890".
const RFC_SECRET = Buffer.from('12345678901234567890', 'ascii');

test('base32 decodes the RFC 4648 section 10 vectors', () => {
  assert.equal(base32Decode('').toString(), '');
  assert.equal(base32Decode('MY======').toString(), 'f');
  assert.equal(base32Decode('MZXQ====').toString(), 'fo');
  assert.equal(base32Decode('MZXW6===').toString(), 'foo');
  assert.equal(base32Decode('MZXW6YQ=').toString(), 'foob');
  assert.equal(base32Decode('MZXW6YTB').toString(), 'fooba');
  assert.equal(base32Decode('MZXW6YTBOI======').toString(), 'foobar');
});

test('base32 reads an unpadded lower-case secret and refuses other characters', () => {
  assert.deepEqual(base32Decode('gezdgnbvgy3tqojqgezdgnbvgy3tqojq'), RFC_SECRET);
  assert.throws(() => base32Decode('GEZDGNBV1'), /not a base32 character/);
});

test('HOTP gives the RFC 4226 Appendix D values for counters 0 to 9', () => {
  const expected = [
    '755224', '287082', '359152', '969429', '338314',
    '254676', '287922', '162583', '399871', '520489',
  ];
  expected.forEach((code, counter) => assert.equal(hotp(RFC_SECRET, counter), code));
});

test('TOTP gives the RFC 6238 Appendix B SHA-1 values', () => {
  const vectors = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [time, code] of vectors) {
    assert.equal(totpAtStep(RFC_SECRET, timeStep(time), 8), code, `T = ${time}`);
  }
});

test('time steps are 30 seconds from the epoch (RFC 6238 section 4.2)', () => {
  assert.equal(timeStep(0), 0);
  assert.equal(timeStep(29.999), 0);
  assert.equal(timeStep(30), 1);
  assert.equal(timeStep(1111111109), 37037036);
});
