// The pure parts of a client's diagnosis: how a refused URI nearly matches a registered one, which usual
// cause each error reads as (with its fix), and what of a request may be stored.
import { describe, expect, it } from 'vitest';
import { captureError, captureRequest, MAX_VALUE_LENGTH, storable } from '../../src/diagnostics/capture.ts';
import { explainFailure, type ExplainedFailure, type RegistrationFacts } from '../../src/diagnostics/explain.ts';
import { describeDifference, nearestRegistered } from '../../src/diagnostics/near-miss.ts';

const NOTES = 'https://mcp.example.com/mcp';
const facts: RegistrationFacts = {
  redirectUris: ['http://127.0.0.1:33418/callback', 'https://app.example.com/cb'],
  resources: [{ uri: NOTES, scopes: ['notes:read', 'notes:write'], disabled: false }, { uri: 'https://files.example.com', scopes: ['files:read'], disabled: false }],
};
const failure = (overrides: Partial<ExplainedFailure>): ExplainedFailure => ({
  endpoint: 'authorization', error: 'invalid_request', errorDescription: undefined, errorDetail: undefined, request: {}, ...overrides,
});

describe('nearestRegistered', () => {
  it.each([
    ['https://app.example.com/cb/', 'differs only by a trailing slash'],
    ['http://app.example.com/cb', 'uses http where https is registered'],
    ['https://app.example.com:8443/cb', 'uses port 8443 where 443 is registered'],
    ['https://app.example.com/callback', 'has path /callback where /cb is registered'],
    ['https://www.app.example.com/cb', 'names host www.app.example.com where app.example.com is registered'],
    ['https://app.example.com/cb?x=1', 'has query "?x=1" where "" is registered'],
  ])('%s → %s', (requested, phrase) => {
    const miss = nearestRegistered(requested, ['https://app.example.com/cb']);
    expect(miss?.registered).toBe('https://app.example.com/cb');
    expect(miss!.differences.map(describeDifference)).toEqual([phrase]);
  });

  it('names two differences together, prefers the closest candidate, and gives up on another server', () => {
    expect(nearestRegistered('http://app.example.com:8080/cb', ['https://app.example.com/cb'])!.differences.map((d) => d.kind)).toEqual(['scheme', 'port']);
    expect(nearestRegistered('https://a.example/x/', ['https://a.example/y', 'https://a.example/x'])!.registered).toBe('https://a.example/x');
    expect(nearestRegistered('https://other.example.net/elsewhere', ['https://app.example.com/cb'])).toBeUndefined();
    expect(nearestRegistered('https://app.example.org/cb', ['https://app.example.com/cb'])).toBeUndefined();
    expect(nearestRegistered('http://x.example:1/a?b', ['https://y.example/c'])).toBeUndefined();
    expect(nearestRegistered('not a url', ['https://app.example.com/cb'])).toBeUndefined();
    expect(nearestRegistered('https://app.example.com/cb', ['https://app.example.com/cb'])).toBeUndefined();
  });
});

describe('explainFailure', () => {
  it('a resource near-miss says how it differs and which spelling to publish', () => {
    const explained = explainFailure(failure({
      error: 'invalid_target', errorDescription: `resource "${NOTES}/sse" is not registered here`, request: { resource: [`${NOTES}/sse`] },
    }), facts);
    expect(explained.cause).toBe('resource_not_registered');
    expect(explained.summary).toContain(`nearly matches the registered "${NOTES}": it has path /mcp/sse where /mcp is registered`);
    expect(explained.fix).toContain(`say "${NOTES}"`);
    const unknown = explainFailure(failure({ error: 'invalid_target', errorDescription: 'resource "https://x.example" is not registered here', request: { resource: ['https://x.example'] } }), facts);
    expect(unknown.summary).not.toContain('nearly');
    expect(unknown.fix).toContain('resource add --uri https://x.example');
  });

  it.each([
    ['resource "https://mcp.example.com/mcp" is disabled on this server', 'resource_disabled'],
    ['this client may not obtain tokens for resource "https://mcp.example.com/mcp"', 'resource_client_not_allowed'],
    ['resource is required: name the MCP server (RFC 8707 resource parameter) this token is for', 'resource_missing'],
    ['request one resource at a time: each access token has exactly one audience', 'resource_multiple'],
    ['resource differs from the one this grant was authorized for', 'resource_differs_from_grant'],
  ])('invalid_target "%s" → %s', (description, cause) => {
    expect(explainFailure(failure({ error: 'invalid_target', errorDescription: description }), facts).cause).toBe(cause);
  });

  it('a redirect URI: the near-miss, or the registered list when nothing is near', () => {
    const near = explainFailure(failure({ error: 'invalid_redirect_uri', request: { redirect_uri: 'http://app.example.com/cb' } }), facts);
    expect(near).toMatchObject({ cause: 'redirect_uri_not_registered' });
    expect(near.summary).toContain('it uses http where https is registered');
    expect(near.fix).toBe('Send exactly "https://app.example.com/cb", or register "http://app.example.com/cb" as well (a self-registered client registers again with it).');
    const far = explainFailure(failure({ error: 'invalid_redirect_uri', request: { redirect_uri: 'https://evil.example/x' } }), facts);
    expect(far.summary).toContain('registered: "http://127.0.0.1:33418/callback", "https://app.example.com/cb"');
  });

  it('a scope: undeclared by the named resource, by every resource, or declared but not granted', () => {
    const named = explainFailure(failure({ endpoint: 'token', error: 'invalid_scope', request: { scope: 'notes:read files:read offline_access', resource: [NOTES] } }), facts);
    expect(named).toMatchObject({ cause: 'scope_not_declared' });
    expect(named.summary).toBe(`The scope files:read is not declared by resource "${NOTES}", so no token can carry it.`);
    const anywhere = explainFailure(failure({ endpoint: 'token', error: 'invalid_scope', request: { scope: 'notes:admin' } }), facts);
    expect(anywhere.summary).toContain('notes:admin is not declared by any registered resource');
    expect(explainFailure(failure({ endpoint: 'token', error: 'invalid_scope', request: { scope: 'notes:write' } }), facts).cause).toBe('scope_not_granted');
  });

  it.each([
    [{ error: 'invalid_request', errorDescription: 'Authorization Server policy requires PKCE to be used for this request' }, 'pkce_missing'],
    [{ error: 'invalid_request', errorDescription: 'not supported value of code_challenge_method', request: { code_challenge_method: 'plain' } }, 'pkce_plain'],
    [{ error: 'invalid_grant', errorDetail: 'code_verifier does not match code_challenge' }, 'pkce_verifier_mismatch'],
    [{ error: 'invalid_grant', errorDetail: 'code_verifier must be provided' }, 'pkce_verifier_missing'],
    [{ error: 'invalid_grant', errorDetail: 'refresh token already used' }, 'refresh_token_replayed'],
    [{ error: 'invalid_grant', errorDetail: 'refresh token not found' }, 'refresh_token_unknown_or_expired'],
    [{ error: 'invalid_grant', errorDetail: 'refresh token is expired' }, 'refresh_token_unknown_or_expired'],
    [{ error: 'invalid_grant', errorDetail: 'authorization code already consumed' }, 'code_replayed'],
    [{ error: 'invalid_grant', errorDetail: 'authorization code not found' }, 'code_unknown_or_expired'],
    [{ error: 'invalid_grant', errorDetail: 'authorization code is expired' }, 'code_unknown_or_expired'],
    [{ error: 'invalid_grant', errorDetail: 'authorization code redirect_uri mismatch' }, 'redirect_uri_differs_from_authorization'],
    [{ error: 'invalid_grant', errorDetail: 'client mismatch' }, 'grant_of_another_client'],
    [{ error: 'invalid_client', errorDetail: 'invalid secret provided' }, 'client_auth_failed'],
    [{ error: 'invalid_client', errorDetail: 'the provided authentication mechanism does not match the registered client authentication method' }, 'client_auth_method_mismatch'],
    [{ error: 'invalid_request', errorDescription: 'requested grant type is not allowed for this client' }, 'grant_type_not_allowed'],
    [{ error: 'unsupported_grant_type' }, 'grant_type_not_allowed'],
    [{ error: 'invalid_grant', errorDetail: 'failed jkt verification' }, 'other'],
    [{ error: 'access_denied', errorDescription: 'The person declined to authorize this request' }, 'access_denied'],
    [{ error: 'consent_required' }, 'interaction_required'],
    [{ error: 'temporarily_unavailable', errorDescription: 'try later' }, 'other'],
  ] as [Partial<ExplainedFailure>, string][])('%o → %s', (overrides, cause) => {
    const explained = explainFailure(failure(overrides), facts);
    expect(explained.cause).toBe(cause);
    expect(explained.summary.length).toBeGreaterThan(20);
    expect(explained.fix.length).toBeGreaterThan(20);
  });

  it('an unrecognised failure still says the error, its description and the detail', () => {
    expect(explainFailure(failure({ error: 'server_error', errorDescription: 'oops', errorDetail: 'x' }), facts).summary)
      .toBe('server_error: oops (x).');
  });
});

describe('captureRequest', () => {
  it('keeps only the allow-listed parameters, and of PKCE and client credentials only whether they came', () => {
    const atAuth = captureRequest('authorization', {
      client_id: 'c', redirect_uri: 'https://app.example.com/cb', resource: NOTES, scope: 'notes:read', response_type: 'code',
      code_challenge: 'CHALLENGE', code_challenge_method: 'S256', state: 'STATE', nonce: 'NONCE',
    }, false);
    expect(atAuth).toEqual({
      redirect_uri: 'https://app.example.com/cb', resource: [NOTES], scope: 'notes:read', response_type: 'code', code_challenge: true, code_challenge_method: 'S256',
    });
    const atToken = captureRequest('token', {
      grant_type: 'authorization_code', code: 'CODE', code_verifier: 'VERIFIER', client_secret: 'SECRET', redirect_uri: 'https://app.example.com/cb',
    }, false);
    expect(atToken).toEqual({ grant_type: 'authorization_code', code_verifier: true, client_auth: 'client_secret_post', redirect_uri: 'https://app.example.com/cb' });
    expect(captureRequest('token', { grant_type: 'refresh_token', refresh_token: 'RT' }, true)).toEqual({ grant_type: 'refresh_token', client_auth: 'client_secret_basic' });
    expect(captureRequest('token', { grant_type: 'client_credentials', client_assertion: 'JWT' }, false).client_auth).toBe('client_assertion');
    expect(JSON.stringify([atAuth, atToken])).not.toMatch(/CHALLENGE|STATE|NONCE|CODE"|VERIFIER|SECRET/);
  });

  it('caps every value and at most four resources, and makes each storable', () => {
    const long = 'https://x.example/'.padEnd(10_000, 'a');
    const captured = captureRequest('authorization', { redirect_uri: long, resource: Array.from({ length: 10 }, (_, i) => `${long}${i}`) }, false);
    expect(captured.redirect_uri).toHaveLength(MAX_VALUE_LENGTH);
    expect(captured.redirect_uri!.endsWith('…')).toBe(true);
    expect(captured.resource).toHaveLength(4);
    expect(storable('a\u0000b\uD800c\uDC00d😀')).toBe('a\uFFFDb\uFFFDc\uFFFDd😀');
    // A cut through a surrogate pair leaves no half of it.
    expect(storable(`${'a'.repeat(MAX_VALUE_LENGTH - 2)}😀tail`)).toBe(`${'a'.repeat(MAX_VALUE_LENGTH - 2)}\uFFFD…`);
    expect(captureError({ error: 'invalid_target', error_description: 'resource "\u0000" is not registered here' }))
      .toEqual({ error: 'invalid_target', errorDescription: 'resource "\uFFFD" is not registered here', errorDetail: undefined });
  });
});
