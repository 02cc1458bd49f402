// The challenge a client sees (RFC 6750 §3, RFC 9728 §5.1) and where a token may come from (only the
// Authorization header): unit tests of the framework-free core.
import { describe, expect, it } from 'vitest';
import {
  bearerChallenge, extractBearerToken, formatBearerChallenge, protectedResourceMetadataUrl, quoteHeaderValue,
  ResourceServerError, stepUpScopes,
} from '@portcullis/resource-server';

const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

function refusalOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ResourceServerError);
    return error as ResourceServerError;
  }
  throw new Error('expected a refusal');
}

describe('challenges', () => {
  it('a request without a token gets a 401 with resource_metadata and scope but no error code', () => {
    const answer = bearerChallenge(new ResourceServerError('missing_token', 'no access token'), { resourceMetadataUrl: PRM, scopes: ['notes:read'] });
    expect(answer.status).toBe(401);
    expect(answer.headers['WWW-Authenticate']).toBe(`Bearer resource_metadata="${PRM}", scope="notes:read"`);
    expect(answer.body).toBeUndefined();
  });

  it('a bad token gets 401 invalid_token with a description', () => {
    const answer = bearerChallenge(new ResourceServerError('invalid_token', 'the token has expired'), { resourceMetadataUrl: PRM });
    expect(answer.status).toBe(401);
    expect(answer.headers['WWW-Authenticate']).toBe(`Bearer error="invalid_token", error_description="the token has expired", resource_metadata="${PRM}"`);
    expect(answer.body).toEqual({ error: 'invalid_token', error_description: 'the token has expired' });
  });

  it('insufficient scope gets 403 with the step-up scope set, not the 401 scopes', () => {
    const error = new ResourceServerError('insufficient_scope', 'needs notes:delete', { scopes: stepUpScopes(['notes:read'], ['notes:delete']) });
    const answer = bearerChallenge(error, { resourceMetadataUrl: PRM, scopes: ['notes:read'] });
    expect(answer.status).toBe(403);
    expect(answer.headers['WWW-Authenticate']).toBe(
      `Bearer error="insufficient_scope", error_description="needs notes:delete", resource_metadata="${PRM}", scope="notes:read notes:delete"`,
    );
  });

  it('an unreachable authorization server is a 503 with Retry-After, without a challenge', () => {
    const answer = bearerChallenge(new ResourceServerError('temporarily_unavailable', 'down'), { resourceMetadataUrl: PRM });
    expect(answer.status).toBe(503);
    expect(answer.headers['Retry-After']).toBe('5');
    expect(answer.headers['WWW-Authenticate']).toBeUndefined();
  });

  it('an unexpected error is a 500 that says nothing, never a pass', () => {
    const answer = bearerChallenge(new Error('secret detail'), { resourceMetadataUrl: PRM });
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer)).not.toContain('secret detail');
  });

  it('quotes header values: escapes " and \\, drops control and non-ASCII characters', () => {
    expect(quoteHeaderValue('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(quoteHeaderValue('line\r\nWWW-Authenticate: Basic\u0000\u007f é')).toBe('"lineWWW-Authenticate: Basic "');
    const header = formatBearerChallenge({ error: 'invalid_token', error_description: 'bad "token"\r\n\\', scope: undefined });
    expect(header).toBe('Bearer error="invalid_token", error_description="bad \\"token\\"\\\\"');
    // Node would throw on an invalid header value: this one is accepted as is.
    expect(() => new Headers({ 'www-authenticate': header })).not.toThrow();
  });

  it('the metadata URL is path-inserted', () => {
    expect(protectedResourceMetadataUrl('https://mcp.example.com/mcp')).toBe(PRM);
    expect(protectedResourceMetadataUrl('https://mcp.example.com')).toBe('https://mcp.example.com/.well-known/oauth-protected-resource');
    expect(protectedResourceMetadataUrl('https://MCP.example.com:443/a/b/')).toBe('https://mcp.example.com/.well-known/oauth-protected-resource/a/b');
  });
});

describe('bearer token extraction', () => {
  it('takes the token from the Authorization header, scheme case-insensitive', () => {
    expect(extractBearerToken({ authorization: 'Bearer abc.def-ghi_jkl~' })).toBe('abc.def-ghi_jkl~');
    expect(extractBearerToken({ authorization: 'bearer abc==' })).toBe('abc==');
    expect(extractBearerToken({ authorization: ['Bearer one'] })).toBe('one');
  });

  it('no header or another scheme is missing_token (plain 401)', () => {
    expect(refusalOf(() => extractBearerToken({})).code).toBe('missing_token');
    expect(refusalOf(() => extractBearerToken({ authorization: '' })).code).toBe('missing_token');
    expect(refusalOf(() => extractBearerToken({ authorization: 'Basic dXNlcjpwYXNz' })).code).toBe('missing_token');
  });

  it('refuses a token in the query string or body with invalid_request, even beside a header', () => {
    const query = refusalOf(() => extractBearerToken({ url: '/mcp?access_token=abc' }));
    expect(query).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(refusalOf(() => extractBearerToken({ url: '/mcp?x=1&access_token=abc', authorization: 'Bearer abc' })).code).toBe('invalid_request');
    expect(refusalOf(() => extractBearerToken({ body: { access_token: 'abc' }, authorization: 'Bearer abc' })).code).toBe('invalid_request');
    expect(extractBearerToken({ url: '/mcp?token_hint=1', body: { jsonrpc: '2.0' }, authorization: 'Bearer abc' })).toBe('abc');
  });

  it('refuses malformed headers with invalid_request', () => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer "abc"', 'Bearer abc=def', ['Bearer a', 'Bearer b']]) {
      expect(refusalOf(() => extractBearerToken({ authorization })).code).toBe('invalid_request');
    }
  });
});
