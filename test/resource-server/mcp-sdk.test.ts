// The kit inside the MCP TypeScript SDKs' own bearer auth: v2 (`@modelcontextprotocol/server`) through
// its fetch gate and per-tool scope challenges, v1 (`@modelcontextprotocol/sdk`) mounted on express; and
// the kit's own DPoP-capable gates in place of the SDKs' (which read Bearer only).
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as v1Errors from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth as requireBearerAuthV1 } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { OAuthError, requireBearerAuth, type AuthInfo } from '@modelcontextprotocol/server';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResourceServer, createToolScopes } from '@portcullis/resource-server';
import { mcpSdkV1BearerAuth, mcpSdkV1TokenVerifier } from '@portcullis/resource-server/mcp-sdk-v1';
import { mcpServerAuthGate, mcpServerTokenVerifier, toolScopeChallenge } from '@portcullis/resource-server/mcp-sdk-v2';
import { RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

const PRM_URL = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
let as: FakeAs;
beforeEach(async () => { as = await startFakeAs(); });
afterEach(async () => { await as.close(); });

const kit = (issuer = as.issuer) => createResourceServer({ resource: RESOURCE, issuer, httpTimeoutMs: 500 });
const mcpRequest = (token: string) =>
  new Request('https://mcp.example.com/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}` } });

describe('MCP SDK v2 (@modelcontextprotocol/server)', () => {
  it('verifyAccessToken returns an AuthInfo with expiry, resource and metadata URL', async () => {
    const token = await as.sign({ scope: 'notes:read notes:write' });
    const info: AuthInfo = await mcpServerTokenVerifier(kit(), { OAuthError }).verifyAccessToken(token);
    expect(info).toMatchObject({ token, clientId: 'client-1', scopes: ['notes:read', 'notes:write'], resourceMetadataUrl: PRM_URL });
    expect(info.expiresAt).toBeGreaterThan(as.now());
    expect(info.resource?.href).toBe(RESOURCE);
    expect(info.extra).toMatchObject({ subject: 'user-1' });
  });

  it('a bad token is the SDK OAuthError invalid_token, so its gate answers 401 with our challenge', async () => {
    const verifier = mcpServerTokenVerifier(kit(), { OAuthError });
    const error = await verifier.verifyAccessToken('garbage').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('invalid_token');

    const gate = requireBearerAuth({ verifier, resourceMetadataUrl: PRM_URL, expectedResource: new URL(RESOURCE) });
    const refused = await gate(mcpRequest(await as.sign({ exp: as.now() - 60 })));
    expect(refused).toBeInstanceOf(Response);
    expect((refused as Response).status).toBe(401);
    expect((refused as Response).headers.get('www-authenticate')).toContain(`error="invalid_token"`);
    expect((refused as Response).headers.get('www-authenticate')).toContain(`resource_metadata="${PRM_URL}"`);

    const accepted = await gate(mcpRequest(await as.sign()));
    expect(accepted).not.toBeInstanceOf(Response);
    expect(accepted).toMatchObject({ clientId: 'client-1', resourceMetadataUrl: PRM_URL });
  });

  it('an unreachable authorization server is the SDK server_error, not invalid_token', async () => {
    const error = await mcpServerTokenVerifier(kit('http://127.0.0.1:9'), { OAuthError }).verifyAccessToken(await as.sign()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('server_error');
  });

  it('toolScopeChallenge asks for the held plus the missing scopes, only for its tool', async () => {
    const tools = createToolScopes({ delete_note: ['notes:delete'] });
    const challenge = toolScopeChallenge(tools, 'delete_note');
    const authInfo = await kit().verifyAccessToken(await as.sign({ scope: 'notes:read' }));
    const call = (name: string) => ({ jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name } });
    expect(await challenge({ request: call('delete_note'), authInfo })).toEqual({
      scopes: ['notes:read', 'notes:delete'], errorDescription: 'this tool call needs the scope notes:delete',
    });
    expect(await challenge({ request: call('read_note'), authInfo })).toBeUndefined();
    expect(await challenge({ request: call('delete_note') })).toBeUndefined();
    const upgraded = await kit().verifyAccessToken(await as.sign({ scope: 'notes:read notes:delete' }));
    expect(await challenge({ request: call('delete_note'), authInfo: upgraded })).toBeUndefined();
  });
});

describe('MCP SDK v1 (@modelcontextprotocol/sdk) requireBearerAuth on express', () => {
  const app = (issuer?: string) => {
    const server = express();
    const verifier = mcpSdkV1TokenVerifier(kit(issuer), v1Errors);
    server.post('/mcp', requireBearerAuthV1({ verifier, resourceMetadataUrl: PRM_URL, expectedResource: new URL(RESOURCE) }), (req, res) => {
      res.json(req.auth);
    });
    return server;
  };

  it('a valid token reaches the handler as req.auth', async () => {
    const response = await request(app()).post('/mcp').set('Authorization', `Bearer ${await as.sign()}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ clientId: 'client-1', scopes: ['notes:read'], resource: RESOURCE });
  });

  it('a bad token gets the SDK 401 challenge with resource_metadata', async () => {
    const response = await request(app()).post('/mcp').set('Authorization', `Bearer ${await as.sign({ aud: 'https://other.example.com' })}`);
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_token');
    expect(response.headers['www-authenticate']).toContain(`resource_metadata="${PRM_URL}"`);
  });

  it('an unreachable authorization server is the SDK server_error (500), never a pass', async () => {
    const response = await request(app('http://127.0.0.1:9')).post('/mcp').set('Authorization', `Bearer ${await as.sign()}`);
    expect(response.status).toBe(500);
    expect(response.body.error).toBe('server_error');
  });
});

/** A client's DPoP key, and proofs made with it (RFC 9449 §4.2). */
async function dpopKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return {
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    proof: (token: string, htm = 'POST', htu = RESOURCE) => new SignJWT({ htm, htu, jti: randomUUID(), ath: createHash('sha256').update(token).digest('base64url') })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt().sign(privateKey),
  };
}

describe('DPoP through the SDK adapters', () => {
  it('the SDKs\' own gates cannot take a DPoP-bound token: the verifiers refuse it as sender-constrained', async () => {
    const { jkt } = await dpopKey();
    const token = await as.sign({ cnf: { jkt } });
    const v2 = await mcpServerTokenVerifier(kit(), { OAuthError }).verifyAccessToken(token).catch((caught: unknown) => caught);
    expect(v2).toMatchObject({ code: 'invalid_token', message: 'the token is sender-constrained' });
    const v1 = await mcpSdkV1TokenVerifier(kit(), v1Errors).verifyAccessToken(token).catch((caught: unknown) => caught);
    expect(v1).toBeInstanceOf(v1Errors.InvalidTokenError);
  });

  describe('v2: mcpServerAuthGate, a web-standard gate like the SDK\'s requireBearerAuth', () => {
    const call = (headers: Record<string, string>, method = 'POST', url = 'https://mcp.example.com/mcp') =>
      new Request(url, { method, headers, ...(method === 'POST' ? { body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' } : {}) });

    it('accepts a DPoP-bound token with its proof, and a plain bearer token', async () => {
      const key = await dpopKey();
      const token = await as.sign({ cnf: { jkt: key.jkt } });
      const gate = mcpServerAuthGate(kit());
      const auth = await gate(call({ authorization: `DPoP ${token}`, dpop: await key.proof(token) }));
      expect(auth).not.toBeInstanceOf(Response);
      expect(auth).toMatchObject({ clientId: 'client-1', resourceMetadataUrl: PRM_URL, extra: { claims: { cnf: { jkt: key.jkt } } } });
      expect(await gate(call({ authorization: `Bearer ${await as.sign()}` }))).not.toBeInstanceOf(Response);
    });

    it('refuses the bound token as Bearer, a replayed proof, and a proof for another method or URL, with a DPoP challenge', async () => {
      const key = await dpopKey();
      const token = await as.sign({ cnf: { jkt: key.jkt } });
      const gate = mcpServerAuthGate(kit());
      const status = async (request: Request) => {
        const answer = await gate(request);
        expect(answer).toBeInstanceOf(Response);
        return { status: (answer as Response).status, challenge: (answer as Response).headers.get('www-authenticate'), body: await (answer as Response).json() };
      };
      const asBearer = await status(call({ authorization: `Bearer ${token}` }));
      expect(asBearer).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
      expect(asBearer.challenge).toMatch(/^DPoP error="invalid_token", .*algs="ES256 EdDSA Ed25519 PS256 RS256", resource_metadata=/);
      const proof = await key.proof(token);
      expect(await gate(call({ authorization: `DPoP ${token}`, dpop: proof }))).not.toBeInstanceOf(Response);
      expect(await status(call({ authorization: `DPoP ${token}`, dpop: proof }))).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used' } });
      expect(await status(call({ authorization: `DPoP ${token}`, dpop: await key.proof(token, 'GET') }))).toMatchObject({ body: { error_description: 'the DPoP proof is for another HTTP method' } });
      expect(await status(call({ authorization: `DPoP ${token}`, dpop: await key.proof(token, 'POST', 'https://mcp.example.com/other') }))).toMatchObject({ body: { error_description: 'the DPoP proof is for another URL' } });
    });

    it('checks htu against the resource\'s origin, not the Host the request came with', async () => {
      const key = await dpopKey();
      const token = await as.sign({ cnf: { jkt: key.jkt } });
      const proof = await key.proof(token, 'POST', 'https://attacker.example/mcp');
      const answer = await mcpServerAuthGate(kit())(call({ authorization: `DPoP ${token}`, dpop: proof }, 'POST', 'https://attacker.example/mcp'));
      expect(answer).toBeInstanceOf(Response);
      expect(await (answer as Response).json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof is for another URL' });
    });

    it('a DPoP-required kit refuses a bearer token with a DPoP challenge, and leaves the body readable after tool scopes', async () => {
      const gate = mcpServerAuthGate(createResourceServer({ resource: RESOURCE, issuer: as.issuer, dpop: 'required' }), { toolScopes: createToolScopes({ list: ['notes:read'] }) });
      const refused = await gate(call({ authorization: `Bearer ${await as.sign()}` }));
      expect((refused as Response).status).toBe(401);
      expect((refused as Response).headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token", error_description="this resource accepts only DPoP-bound tokens", algs=/);
      const key = await dpopKey();
      const token = await as.sign({ cnf: { jkt: key.jkt } });
      const request = call({ authorization: `DPoP ${token}`, dpop: await key.proof(token) });
      expect(await gate(request)).not.toBeInstanceOf(Response);
      expect(await request.json()).toEqual({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    });
  });

  describe('v1: mcpSdkV1BearerAuth on express, in place of the SDK\'s requireBearerAuth', () => {
    const app = (options: Parameters<typeof createResourceServer>[0] | undefined = undefined) => {
      const server = express();
      const router = express.Router();
      // Mounted under /api: the proof names the whole path, which express strips from req.url.
      router.post('/mcp', express.json(), mcpSdkV1BearerAuth(createResourceServer(options ?? { resource: 'https://mcp.example.com/api/mcp', issuer: as.issuer })), (req, res) => {
        res.json(req.auth);
      });
      server.use('/api', router);
      return server;
    };
    const url = 'https://mcp.example.com/api/mcp';

    it('accepts a DPoP-bound token with its proof of the full path, and puts it on req.auth', async () => {
      const key = await dpopKey();
      const token = await as.sign({ cnf: { jkt: key.jkt }, aud: url });
      const response = await request(app()).post('/api/mcp').set('Authorization', `DPoP ${token}`).set('DPoP', await key.proof(token, 'POST', url)).send({});
      expect(response.status, response.text).toBe(200);
      expect(response.body).toMatchObject({ clientId: 'client-1', claims: { cnf: { jkt: key.jkt } } });
    });

    it('refuses the bound token as Bearer and a replayed proof with DPoP challenges; a bearer token still passes', async () => {
      const key = await dpopKey();
      const token = await as.sign({ cnf: { jkt: key.jkt }, aud: url });
      const server = app();
      const asBearer = await request(server).post('/api/mcp').set('Authorization', `Bearer ${token}`).send({});
      expect(asBearer.status).toBe(401);
      expect(asBearer.headers['www-authenticate']).toMatch(/^DPoP error="invalid_token", .*algs="/);
      const proof = await key.proof(token, 'POST', url);
      expect((await request(server).post('/api/mcp').set('Authorization', `DPoP ${token}`).set('DPoP', proof).send({})).status).toBe(200);
      const replay = await request(server).post('/api/mcp').set('Authorization', `DPoP ${token}`).set('DPoP', proof).send({});
      expect(replay.status).toBe(401);
      expect(replay.body).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used' });
      expect((await request(server).post('/api/mcp').set('Authorization', `Bearer ${await as.sign({ aud: url })}`).send({})).status).toBe(200);
    });
  });
});
