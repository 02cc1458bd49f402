// The portal's words for who vouches for a client and for each security event: a person must be able
// to tell an operator's client from a self-registered one, and a replay from a routine event.
import { describe, expect, it } from 'vitest';
import { describeClientSource, describeSecurityEvent } from '../../src/portal/presenters.ts';
import { formatTime } from '../../src/views.ts';
import type { SecurityEvent } from '../../src/grants/store.ts';

const event = (type: string, extra: Partial<SecurityEvent> = {}): SecurityEvent => ({
  occurredAt: new Date('2025-06-18T10:00:00Z'), type, outcome: 'success', clientId: 'c1', clientName: 'Notes Desktop',
  resource: 'https://mcp.example.com/mcp', scopes: 'notes:read notes:write', details: {}, ...extra,
});

describe('client identity source', () => {
  it('names each source the way the issue asks', () => {
    expect(describeClientSource('abc', 'operator')).toEqual({ label: 'Pre-registered by the operator of this server', unverified: false });
    expect(describeClientSource('abc', 'dynamic_registration')).toEqual({ label: 'Self-registered: nobody has verified who runs this application', unverified: true });
    expect(describeClientSource('https://app.example.org/client.json', 'client_id_metadata_document'))
      .toEqual({ label: 'Identified by its domain app.example.org (Client ID Metadata Document)', unverified: false });
  });

  it('treats a client without a known source as unverified', () => {
    expect(describeClientSource('abc', null).unverified).toBe(true);
    expect(describeClientSource('abc', 'something-new').unverified).toBe(true);
  });
});

describe('security events in plain words', () => {
  it('says what was allowed, where, and flags replays', () => {
    expect(describeSecurityEvent(event('consent.granted')))
      .toEqual({ sentence: 'Allowed Notes Desktop access at https://mcp.example.com/mcp (notes:read, notes:write)', alarming: false });
    expect(describeSecurityEvent(event('grant.revoked', { details: { revoked_by: 'account' } })).sentence)
      .toBe('You revoked the access of Notes Desktop');
    expect(describeSecurityEvent(event('refresh_token.replay_detected', { outcome: 'failure' })).alarming).toBe(true);
    expect(describeSecurityEvent(event('login.succeeded', { clientId: null, clientName: null })).sentence).toBe('Signed in to this page');
  });

  it('formats times unambiguously, in UTC', () => {
    expect(formatTime(new Date('2025-06-18T10:05:00Z'))).toEqual({ text: '18 Jun 2025, 10:05 UTC', iso: '2025-06-18T10:05:00.000Z' });
    expect(formatTime(null)).toBeNull();
  });
});
