// The default-scope rule alone (src/oidc/default-scopes.ts): which scopes an authorization request asks
// for. The black-box side (a real client with no scope gets a token with the read scopes) is in
// test/http/mcp-client-behaviour.test.ts.
import { describe, expect, it } from 'vitest';
import { scopesWithDefaults } from '../../src/oidc/default-scopes.ts';
import type { Resource } from '../../src/resources/schema.ts';

const notes: Resource['scopes'] = [
  { scope: 'notes:read', risk: 'read', description: '' },
  { scope: 'notes:list', risk: 'read', description: '' },
  { scope: 'notes:write', risk: 'write', description: '' },
  { scope: 'notes:delete', risk: 'irreversible', description: '' },
];

describe('the default-scope rule', () => {
  it('gives a request with no scope the resource’s read scopes, never its write or irreversible ones', () => {
    expect(scopesWithDefaults([], notes)).toEqual(['notes:read', 'notes:list']);
  });

  it('keeps openid, offline_access and undeclared scopes beside the defaults (oidc-provider drops the undeclared)', () => {
    expect(scopesWithDefaults(['openid', 'offline_access', 'other:thing'], notes))
      .toEqual(['openid', 'offline_access', 'other:thing', 'notes:read', 'notes:list']);
  });

  it('leaves a request naming any of the resource’s scopes as it is, even a write scope alone', () => {
    expect(scopesWithDefaults(['notes:write'], notes)).toEqual(['notes:write']);
    expect(scopesWithDefaults(['openid', 'notes:delete'], notes)).toEqual(['openid', 'notes:delete']);
  });

  it('adds nothing for a resource without read scopes', () => {
    const writeOnly = notes.filter((s) => s.risk !== 'read');
    expect(scopesWithDefaults(['openid'], writeOnly)).toEqual(['openid']);
    expect(scopesWithDefaults([], writeOnly)).toEqual([]);
  });

  it('does not change the list it was given', () => {
    const requested = ['openid'];
    scopesWithDefaults(requested, notes);
    expect(requested).toEqual(['openid']);
  });
});
