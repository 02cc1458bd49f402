// The MCP TypeScript SDKs (v1 and v2) given a `clientMetadataUrl` see
// `client_id_metadata_document_supported`, skip registration, and complete the flow with the URL as client_id.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { decodeJwt } from 'jose';
import { auth as authV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { auth as authV2 } from '@modelcontextprotocol/client';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { addAccount } from '../../src/accounts/store.ts';
import { addResource } from '../../src/resources/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { PASSWORD, TEST_SECRETS, notesResource } from '../helpers/test-app.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { checkedScopes, csrfTokenOf } from '../helpers/oauth-flow.ts';
import { CIMD_DEV_ENV, clientDocument, startDocumentServer, type DocumentServer } from './document-server.ts';

const REDIRECT = 'http://127.0.0.1:43118/callback';
let server: Server;
let issuer: string;
let testDb: TestDb;
let docs: DocumentServer;
const email = 'sdk-person@example.com';

beforeAll(async () => {
  docs = await startDocumentServer();
  // The SDK talks to the issuer's own URL, so the server listens where the issuer says.
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  testDb = await createMigratedTestDb();
  const config = loadConfig({ ISSUER: issuer, ...CIMD_DEV_ENV });
  const { app } = await createApp({ config, db: testDb.db, secrets: TEST_SECRETS });
  server.on('request', app.callback());
  await addResource(testDb.db, notesResource(), config.accessTokenTtlSeconds);
  await addAccount(testDb.db, { email, password: PASSWORD });
});
afterAll(async () => {
  await flushAuditWrites();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await testDb?.cleanup();
  await docs?.close();
});

/** A person in a browser: follows the authorization URL, signs in, approves the defaults; returns the callback. */
async function approve(agent: TestAgent, start: URL): Promise<URL> {
  let response = await agent.get(`${start.pathname}${start.search}`);
  for (let step = 0; step < 12; step++) {
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.location as string, issuer);
      if (next.origin !== issuer) return next;
      response = await agent.get(`${next.pathname}${next.search}`);
      continue;
    }
    const page = new URL(response.request.url).pathname;
    const csrf = csrfTokenOf(response.text);
    if (response.text.includes('name="password"')) {
      response = await agent.post(`${page}/login`).type('form').send({ email, password: PASSWORD, csrf });
    } else if (response.text.includes('name="decision"')) {
      const form = new URLSearchParams({ decision: 'approve', csrf });
      for (const scope of checkedScopes(response.text)) form.append('scope', scope);
      response = await agent.post(`${page}/confirm`).type('form').send(form.toString());
    } else {
      throw new Error(`unexpected page (${response.status}): ${response.text.slice(0, 300)}`);
    }
  }
  throw new Error('the authorization did not come back to the client');
}

class MetadataDocumentClient {
  client: Record<string, unknown> | undefined;
  tokenSet: Record<string, unknown> | undefined;
  callback: URL | undefined;
  private verifier = '';
  private discovery: unknown;
  readonly redirectUrl = REDIRECT;
  constructor(readonly clientMetadataUrl: string, private readonly agent: TestAgent) {}
  get clientMetadata() {
    return { client_name: 'SDK client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.client as never; }
  saveClientInformation(info: Record<string, unknown>) { this.client = info; }
  tokens() { return this.tokenSet as never; }
  saveTokens(tokens: Record<string, unknown>) { this.tokenSet = tokens; }
  saveCodeVerifier(verifier: string) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
  saveDiscoveryState(state: unknown) { this.discovery = state; }
  discoveryState() { return this.discovery as never; }
  async redirectToAuthorization(url: URL) { this.callback = await approve(this.agent, url); }
}

const sdks = [['v1 (@modelcontextprotocol/sdk)', authV1], ['v2 (@modelcontextprotocol/client)', authV2]] as const;

describe.each(sdks)('MCP SDK %s with a clientMetadataUrl', (name, auth) => {
  it('uses the URL as its client_id and completes the flow without registering', async () => {
    const path = `/sdk-${name.slice(0, 2)}/client.json`;
    const clientId = docs.url(path);
    docs.serveJson(path, clientDocument(clientId, REDIRECT, { client_name: `SDK ${name}` }));
    const client = new MetadataDocumentClient(clientId, request.agent(server));
    const run = auth as (provider: never, options: { serverUrl: string; authorizationCode?: string; iss?: string }) => Promise<string>;

    expect(await run(client as never, { serverUrl: issuer })).toBe('REDIRECT');
    expect(client.client?.client_id).toBe(clientId);
    const code = client.callback?.searchParams.get('code');
    expect(code, client.callback?.href).toEqual(expect.any(String));
    // RFC 9207: the callback's `iss` goes back to the SDK (v2 checks it against the discovered issuer).
    const iss = client.callback?.searchParams.get('iss') ?? undefined;
    expect(await run(client as never, { serverUrl: issuer, authorizationCode: code!, iss })).toBe('AUTHORIZED');
    expect(decodeJwt(String(client.tokenSet?.access_token))).toMatchObject({ client_id: clientId, iss: issuer });
    const { rows } = await testDb.db.query(`SELECT 1 FROM oidc_models WHERE model = 'Client'`);
    expect(rows).toEqual([]);
  });
});
