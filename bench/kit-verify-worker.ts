// Token verifications per second, in a process of its own: the resource-server kit's full check of a
// bearer header (JWKS already cached) beside a bare jose.jwtVerify of the same token with the same rules.
import { performance } from 'node:perf_hooks';
import { jwtVerify } from 'jose';
import { createResourceServer } from '@portcullis/resource-server';
import { serveCommands } from './child-process.ts';
import { startFakeIssuer } from './fake-issuer.ts';
import { RoundRecorder, type RoundResult } from './stats.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
const issuer = await startFakeIssuer();
const token = await issuer.sign(RESOURCE, 'notes:read notes:write');
// Every verification a full signature check (a token seen for the first time), and the default kit,
// which reuses a verified token's result (what an MCP client's repeated calls with one token pay).
const kit = createResourceServer({ resource: RESOURCE, issuer: issuer.issuer, scopesSupported: ['notes:read'], verifiedTokenCacheSeconds: 0 });
const kitCached = createResourceServer({ resource: RESOURCE, issuer: issuer.issuer, scopesSupported: ['notes:read'] });
const header = `Bearer ${token}`;

const candidates = {
  kit: () => kit.authenticate({ authorization: header, url: '/mcp' }),
  kitCached: () => kitCached.authenticate({ authorization: header, url: '/mcp' }),
  // What the kit adds to: signature, typ, iss, aud, exp with the same algorithms and leeway.
  jose: () => jwtVerify(token, issuer.publicKey, {
    issuer: issuer.issuer, audience: RESOURCE, algorithms: ['ES256', 'EdDSA', 'RS256'], typ: 'at+jwt', clockTolerance: 5, requiredClaims: ['exp'],
  }),
};
// The first verification fetches metadata and JWKS: outside any measured time.
await candidates.kit();
await candidates.kitCached();
await candidates.jose();

/** `concurrency` loops of one verification at a time until the deadline. */
async function run(name: keyof typeof candidates, concurrency: number, durationMs: number): Promise<RoundResult> {
  const verify = candidates[name];
  const recorder = new RoundRecorder();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await verify();
        recorder.record(performance.now() - t0);
      } catch (error) {
        recorder.fail(error);
      }
    }
  }));
  return recorder.summary(performance.now() - started);
}

serveCommands({ pid: process.pid }, {
  cpu: () => process.cpuUsage(),
  verify: ({ name, concurrency, durationMs }: { name: keyof typeof candidates; concurrency: number; durationMs: number }) =>
    run(name, concurrency, durationMs),
}, () => issuer.close());
