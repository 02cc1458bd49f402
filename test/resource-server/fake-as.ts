// A local authorization server for the kit's tests (node:http on port 0): RFC 8414 metadata, a JWKS of
// real jose keys, an RFC 7662 introspection endpoint, a token signer, and counters for every fetch; and, as
// Portcullis answers them to a resource's own client, the approved tool catalog and the tool-call records sink.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const RESOURCE = 'https://mcp.example.com/mcp';
export const INTROSPECTION_CLIENT = { clientId: 'rs-client', clientSecret: 'rs secret:with/odd chars' };

interface SigningKey { kid: string; alg: string; privateKey: CryptoKey; jwk: JWK }

export async function startFakeAs() {
  const keys: SigningKey[] = [];
  const counts = { metadata: 0, openid: 0, jwks: 0, introspection: 0 };
  /** Opaque token → the introspection answer for it. */
  const introspection = new Map<string, Record<string, unknown>>();
  const state = { metadataStatus: 200, metadataIssuer: undefined as string | undefined, introspectionStatus: 200, lastIntrospectionAuth: '' };
  /** What `GET /resource/tools` answers (404 while undefined), and every `POST /resource/tool-calls` body received. */
  const tools = { catalog: undefined as Record<string, unknown> | undefined, batches: [] as { records: Record<string, unknown>[]; dropped: number; resource?: string }[], authorizations: [] as string[] };

  const addKey = async (alg = 'ES256') => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${keys.length + 1}`;
    const key = { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
    keys.push(key);
    return key;
  };
  await addKey();

  let issuer = '';
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const metadata = () => ({
      issuer: state.metadataIssuer ?? issuer,
      jwks_uri: `${issuer}/jwks`,
      introspection_endpoint: `${issuer}/introspect`,
    });
    if (req.url === '/.well-known/oauth-authorization-server') {
      counts.metadata += 1;
      return json(state.metadataStatus, state.metadataStatus === 200 ? metadata() : { error: 'nope' });
    }
    if (req.url === '/.well-known/openid-configuration') {
      counts.openid += 1;
      return json(200, metadata());
    }
    if (req.url === '/jwks') {
      counts.jwks += 1;
      return json(200, { keys: keys.map((key) => key.jwk) });
    }
    if (req.url === '/introspect' && req.method === 'POST') {
      counts.introspection += 1;
      state.lastIntrospectionAuth = req.headers.authorization ?? '';
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        if (state.introspectionStatus !== 200) return json(state.introspectionStatus, { error: 'server_error' });
        const token = new URLSearchParams(body).get('token') ?? '';
        json(200, introspection.get(token) ?? { active: false });
      });
      return;
    }
    if (req.url === '/resource/tools' && req.method === 'GET') {
      tools.authorizations.push(req.headers.authorization ?? '');
      return tools.catalog ? json(200, tools.catalog) : json(404, { error: 'not_found' });
    }
    if (req.url === '/resource/tool-calls' && req.method === 'POST') {
      tools.authorizations.push(req.headers.authorization ?? '');
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        const batch = JSON.parse(body) as (typeof tools.batches)[number];
        tools.batches.push(batch);
        json(200, { resource: batch.resource, stored: batch.records.length, dropped: batch.dropped });
      });
      return;
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  issuer = `http://127.0.0.1:${address.port}`;

  const now = () => Math.floor(Date.now() / 1000);
  /** A signed access token with RFC 9068 claims; `claims` and `header` override defaults (undefined removes one). */
  const sign = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key = keys[0]!) => {
    const payload = Object.fromEntries(Object.entries({
      iss: issuer, aud: RESOURCE, sub: 'user-1', client_id: 'client-1', scope: 'notes:read',
      iat: now(), exp: now() + 300, jti: crypto.randomUUID(), ...claims,
    }).filter(([, value]) => value !== undefined)) as JWTPayload;
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
  };

  return {
    issuer,
    counts,
    state,
    keys,
    addKey,
    sign,
    now,
    introspection,
    tools,
    /** Every tool-call record received so far, in order. */
    toolCallRecords: () => tools.batches.flatMap((batch) => batch.records),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeAs = Awaited<ReturnType<typeof startFakeAs>>;
