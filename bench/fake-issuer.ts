// A stand-in authorization server for the kit's benchmarks: RFC 8414 metadata and a JWKS on loopback,
// a signer for RFC 9068 access tokens, and a sink for the kit's tool-call records (counted, not parsed
// beyond the two counts). The kit is what is measured, so its issuer costs next to nothing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface FakeIssuer {
  issuer: string;
  publicKey: CryptoKey;
  /** An ES256 at+jwt for `audience` with `scope`, valid for an hour. */
  sign(audience: string, scope: string): Promise<string>;
  /** The tool-call records POSTed to /resource/tool-calls so far, and the drops the kit reported. */
  toolCalls(): { records: number; dropped: number };
  close(): Promise<void>;
}

export async function startFakeIssuer(): Promise<FakeIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] });
  let issuer = '';
  const delivered = { records: 0, dropped: 0 };
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/resource/tool-calls') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const batch = JSON.parse(Buffer.concat(chunks).toString()) as { records: unknown[]; dropped: number };
        delivered.records += batch.records.length;
        delivered.dropped += batch.dropped; // the kit reports the drops since its last delivered batch
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ stored: batch.records.length, dropped: batch.dropped }));
      });
    } else if (req.url === '/.well-known/oauth-authorization-server') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    publicKey,
    sign: (audience, scope) => new SignJWT({ scope, client_id: 'bench-client' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('bench-user')
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey),
    toolCalls: () => ({ ...delivered }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
