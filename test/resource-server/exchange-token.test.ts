// The kit's exchangeToken() against a faked authorization server (outbound HTTP is the one thing tests may
// fake): what it sends, and each way an answer is not a token (the real server: test/exchange/notes-downstream).
import { describe, expect, it } from 'vitest';
import { exchangeToken, TokenExchangeError } from '../../packages/resource-server/src/index.ts';

const ISSUER = 'https://as.example';
const base = { issuer: ISSUER, clientId: 'mcp server', clientSecret: 's:cret', subjectToken: 'tok', resource: 'https://api.example/' };

/** A fetch answering discovery with `metadata` and the token endpoint with `answer`; records the token request. */
function fakeAs(answer: () => Response, metadata: Record<string, unknown> = { issuer: ISSUER, token_endpoint: `${ISSUER}/token` }) {
  const sent: Request[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.url.includes('/.well-known/')) return Response.json(metadata);
    sent.push(request);
    return answer();
  }) as typeof fetch;
  return { fetchImpl, sent };
}

describe('exchangeToken()', () => {
  it('posts the RFC 8693 request with client_secret_basic and returns the token', async () => {
    const as = fakeAs(() => Response.json({ access_token: 'new', token_type: 'Bearer', expires_in: 60, scope: 'a b', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }));
    const token = await exchangeToken({ ...base, fetch: as.fetchImpl, scope: ['a', 'b'] });
    expect(token).toMatchObject({ accessToken: 'new', tokenType: 'Bearer', expiresIn: 60, scopes: ['a', 'b'] });
    const [request] = as.sent;
    expect(request!.headers.get('authorization')).toBe(`Basic ${btoa('mcp+server:s%3Acret')}`);
    expect(Object.fromEntries(new URLSearchParams(await request!.text()))).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'tok',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: 'https://api.example/', scope: 'a b',
    });
  });

  it('maps refusals, 5xx, odd codes, non-token answers and a metadata without token_endpoint to coded errors', async () => {
    const cases: Array<[() => Response, string, Record<string, unknown>?]> = [
      [() => Response.json({ error: 'invalid_target', error_description: 'no chain' }, { status: 400 }), 'invalid_target'],
      [() => Response.json({ error: 'something_new' }, { status: 400 }), 'invalid_request'],
      [() => new Response('down', { status: 503 }), 'temporarily_unavailable'],
      [() => Response.json({ token_type: 'Bearer' }), 'invalid_response'],
      [() => Response.json({ access_token: 'x', token_type: 'N_A', expires_in: 60, issued_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 'invalid_response'],
      [() => Response.json({}), 'temporarily_unavailable', { issuer: ISSUER }],
    ];
    for (const [answer, code, metadata] of cases) {
      const as = fakeAs(answer, metadata);
      const error = await exchangeToken({ ...base, issuer: `${ISSUER}`, fetch: as.fetchImpl }).catch((e: unknown) => e);
      expect(error, code).toBeInstanceOf(TokenExchangeError);
      expect((error as TokenExchangeError).code).toBe(code);
    }
  });
});
