// What every HTTP adapter (koa, node) must do, as one suite run against each: metadata at its URLs,
// the 401/403/400/503 answers, `req.auth` on success, and per-tool step-up on `tools/call`.
import type { Server } from 'node:http';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createResourceServer, createToolScopes, type ResourceServer, type ResourceServerOptions,
} from '@portcullis/resource-server';
import { RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

export const PRM_PATH = '/.well-known/oauth-protected-resource/mcp';
export const PRM_URL = `https://mcp.example.com${PRM_PATH}`;
export const toolScopes = createToolScopes({ delete_note: ['notes:delete'], add_note: ['notes:write'] });

/**
 * `start` builds a server around the kit that serves metadata, guards `/mcp` with toolScopes, guards
 * `/admin` with requiredScopes ['notes:admin'], and answers a guarded request with `{ auth, body }`.
 */
export type StartAdapter = (kit: ResourceServer) => Promise<Server>;

const call = (id: number, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

/** `bodyParsedBefore`: a body parser runs before the guard and answers unparsable bodies itself. */
export function describeAdapterContract(name: string, start: StartAdapter, { bodyParsedBefore = false } = {}) {
  describe(`${name} adapter`, () => {
    let as: FakeAs;
    let server: Server;
    const open = async (options: Partial<ResourceServerOptions> = {}) => {
      server = await start(createResourceServer({
        resource: RESOURCE, issuer: as.issuer, scopesSupported: ['notes:read'], resourceName: 'Notes', ...options,
      }));
      return request(server);
    };
    beforeEach(async () => { as = await startFakeAs(); });
    afterEach(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await as.close();
    });

    it('serves the metadata at the path-inserted URL, and at the root only when asked', async () => {
      let http = await open();
      const response = await http.get(PRM_PATH);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/application\/json/);
      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.body).toEqual({
        resource: RESOURCE, authorization_servers: [as.issuer], scopes_supported: ['notes:read'],
        bearer_methods_supported: ['header'], resource_name: 'Notes', dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
      });
      expect((await http.get('/.well-known/oauth-protected-resource')).status).toBe(404);
      expect((await http.post(PRM_PATH)).status).toBe(405);
      expect((await http.options(PRM_PATH)).status).toBe(204);
      await new Promise<void>((resolve) => server.close(() => resolve()));

      http = await open({ serveRootMetadata: true });
      const root = await http.get('/.well-known/oauth-protected-resource');
      expect(root.status).toBe(200);
      expect(root.body.resource).toBe(RESOURCE);
    });

    it('no token: 401 with resource_metadata and scope, no error code', async () => {
      const response = await (await open()).post('/mcp').send(call(1, 'read_note'));
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe(`Bearer resource_metadata="${PRM_URL}", scope="notes:read"`);
    });

    it('bad or expired token: 401 invalid_token', async () => {
      const http = await open();
      for (const token of ['garbage', await as.sign({ exp: as.now() - 60 }), await as.sign({ aud: 'https://other.example.com' })]) {
        const response = await http.post('/mcp').set('Authorization', `Bearer ${token}`).send(call(1, 'read_note'));
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(new RegExp(`^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="${PRM_URL}"`));
        expect(response.body.error).toBe('invalid_token');
      }
    });

    it('token in the query string: 400 invalid_request, even with a valid header', async () => {
      const token = await as.sign();
      const response = await (await open()).post(`/mcp?access_token=${token}`).set('Authorization', `Bearer ${token}`).send(call(1, 'read_note'));
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    });

    it('valid token: the handler runs with the auth info and the JSON-RPC body', async () => {
      const message = call(7, 'read_note');
      const response = await (await open()).post('/mcp').set('Authorization', `Bearer ${await as.sign()}`).send(message);
      expect(response.status).toBe(200);
      expect(response.body.auth).toMatchObject({ clientId: 'client-1', scopes: ['notes:read'], subject: 'user-1', resource: `${RESOURCE}` });
      expect(response.body.body).toEqual(message);
    });

    it('a route scope the token lacks: 403 insufficient_scope with the held and missing scopes', async () => {
      const response = await (await open()).get('/admin').set('Authorization', `Bearer ${await as.sign()}`);
      expect(response.status).toBe(403);
      expect(response.headers['www-authenticate']).toBe(
        `Bearer error="insufficient_scope", error_description="this request needs the scope notes:admin", resource_metadata="${PRM_URL}", scope="notes:read notes:admin"`,
      );
    });

    it('per-tool scopes: step-up on tools/call, other calls pass', async () => {
      const http = await open();
      const bearer = `Bearer ${await as.sign({ scope: 'notes:read' })}`;
      const denied = await http.post('/mcp').set('Authorization', bearer).send(call(1, 'delete_note'));
      expect(denied.status).toBe(403);
      expect(denied.headers['www-authenticate']).toBe(
        `Bearer error="insufficient_scope", error_description="this tool call needs the scope notes:delete", resource_metadata="${PRM_URL}", scope="notes:read notes:delete"`,
      );
      const batch = await http.post('/mcp').set('Authorization', bearer).send([call(1, 'read_note'), call(2, 'add_note'), call(3, 'delete_note')]);
      expect(batch.status).toBe(403);
      expect(batch.headers['www-authenticate']).toContain('scope="notes:read notes:write notes:delete"');
      expect((await http.post('/mcp').set('Authorization', bearer).send({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(200);
      expect((await http.post('/mcp').set('Authorization', bearer).send(call(1, 'read_note'))).status).toBe(200);
      const upgraded = `Bearer ${await as.sign({ scope: 'notes:read notes:delete' })}`;
      expect((await http.post('/mcp').set('Authorization', upgraded).send(call(1, 'delete_note'))).status).toBe(200);
    });

    it('an unparsable body with tool scopes: 400 JSON-RPC parse error; no token still 401 first', async () => {
      const http = await open();
      const response = await http.post('/mcp').set('Authorization', `Bearer ${await as.sign()}`).set('Content-Type', 'application/json').send('{"jsonrpc":');
      expect(response.status).toBe(400);
      // A body parser in front answers for unparsable bodies itself, before any token check.
      if (bodyParsedBefore) return;
      expect(JSON.parse(response.text).error.code).toBe(-32700);
      // The body is read only after the token checked out.
      expect((await http.post('/mcp').set('Content-Type', 'application/json').send('{"jsonrpc":')).status).toBe(401);
    });

    it('authorization server down: 503 with Retry-After, not a 401 that would send clients to re-authorize', async () => {
      server = await start(createResourceServer({ resource: RESOURCE, issuer: 'http://127.0.0.1:9', httpTimeoutMs: 500 }));
      const response = await request(server).post('/mcp').set('Authorization', `Bearer ${await as.sign()}`).send(call(1, 'read_note'));
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
    });
  });
}
