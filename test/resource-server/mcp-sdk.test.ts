// The kit inside the MCP TypeScript SDKs' own bearer auth: v2 (`@modelcontextprotocol/server`) through
// its fetch gate and per-tool scope challenges, v1 (`@modelcontextprotocol/sdk`) mounted on express.
import * as v1Errors from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth as requireBearerAuthV1 } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { OAuthError, requireBearerAuth, type AuthInfo } from '@modelcontextprotocol/server';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResourceServer, createToolScopes } from '@portcullis/resource-server';
import { mcpSdkV1TokenVerifier } from '@portcullis/resource-server/mcp-sdk-v1';
import { mcpServerTokenVerifier, toolScopeChallenge } from '@portcullis/resource-server/mcp-sdk-v2';
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
