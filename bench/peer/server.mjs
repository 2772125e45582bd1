// A minimal node-oidc-provider, run beside Tessera so the benchmark numbers have a reference.
//
// It is configured only as far as the compared endpoints (discovery, JWKS, the client credentials
// grant) need: one client, whose secret comes from PEER_CLIENT_SECRET; one RS256 signing key made
// at start-up (as Tessera does); the library's in-memory storage and its default routes. Listens on loopback only; the port comes from PEER_PORT (default 18081).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const host = '127.0.0.1';
const port = Number.parseInt(process.env.PEER_PORT ?? '18081', 10);
const issuer = `http://${host}:${port}`;

// A real key rather than the library's development key, so the JWKS document has the shape
// (one RSA key, RS256) of what Tessera publishes, and so the library does not warn about it.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench',
      client_secret: process.env.PEER_CLIENT_SECRET,
      redirect_uris: ['http://127.0.0.1:9/cb'],
      grant_types: ['authorization_code', 'client_credentials'],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // Its built-in login pages are for trying the library out; the compared endpoints never use them.
  features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
});

const server = createServer(provider.callback());
server.listen(port, host, () => {
  console.log(`peer listening on ${issuer}`);
});

// The benchmark stops this process with SIGTERM; drop open keep-alive connections so it exits now.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
