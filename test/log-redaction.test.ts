// The log's safety net on its own (src/log-redaction.ts): what a careless caller's fields look like once
// they reach a line, at any depth and under any spelling of a credential's name, and that a line without
// one is passed on untouched, never copied or changed in place.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { log, setLogDestination, setLogLevel } from '../src/log.ts';
import { REDACTED, redactSecrets } from '../src/log-redaction.ts';

describe('redactSecrets', () => {
  it('hides credential fields at the top, one object down and deeper, as in an audit event\'s details', () => {
    const fields = {
      password: 'p-1',
      audit: { type: 'token.issued', client_id: 'c1', details: { grant_id: 'g1', refresh_token: 'rt-1', nested: { client_secret: 's-1' } } },
    };
    expect(redactSecrets(fields)).toEqual({
      password: REDACTED,
      audit: { type: 'token.issued', client_id: 'c1', details: { grant_id: 'g1', refresh_token: REDACTED, nested: { client_secret: REDACTED } } },
    });
  });

  it('knows a credential under any of its spellings: case, hyphens and underscores ignored', () => {
    const out = redactSecrets({ accessToken: 'a', 'Access-Token': 'b', ACCESS_TOKEN: 'c', headers: { Authorization: 'Bearer x', 'Set-Cookie': 'sid=1', Cookie: 'sid=2' } });
    expect(out).toEqual({ accessToken: REDACTED, 'Access-Token': REDACTED, ACCESS_TOKEN: REDACTED, headers: { Authorization: REDACTED, 'Set-Cookie': REDACTED, Cookie: REDACTED } });
  });

  it('hides a code only where an authorization code travels (request parameters), not an error code', () => {
    const out = redactSecrets({ code: 'ECONNRESET', params: { code: 'ac-1' }, body: { Code: 'ac-2' }, query: { code: ['ac-3'] }, error: { code: '23505' }, batch: { params: [{ code: 'ac-4' }] } });
    expect(out).toEqual({ code: 'ECONNRESET', params: { code: REDACTED }, body: { Code: REDACTED }, query: { code: REDACTED }, error: { code: '23505' }, batch: { params: [{ code: REDACTED }] } });
  });

  it('walks arrays, and hides a whole value that holds a credential (an array of cookies, an object token)', () => {
    const out = redactSecrets({ grants: [{ id: 'g1', token: 't-1' }, { id: 'g2' }], cookies: ['a', 'b'], token: { value: 'v' } });
    expect(out).toEqual({ grants: [{ id: 'g1', token: REDACTED }, { id: 'g2' }], cookies: REDACTED, token: REDACTED });
  });

  it('walks class instances and errors by their enumerable fields, as JSON writes them, and leaves dates and buffers be', () => {
    class Upstream { constructor(public status: number, public headers: Record<string, string>) {} }
    const failure = Object.assign(new Error('upstream refused'), { token: 'err-token-1', status: 401 });
    const when = new Date('2026-01-01T00:00:00Z');
    const bytes = Buffer.from('abc');
    const out = redactSecrets({ upstream: new Upstream(502, { authorization: 'Bearer u-1' }), failure, when, bytes });
    expect(JSON.parse(JSON.stringify(out))).toEqual({
      upstream: { status: 502, headers: { authorization: REDACTED } },
      failure: { token: REDACTED, status: 401 },
      when: '2026-01-01T00:00:00.000Z',
      bytes: { type: 'Buffer', data: [97, 98, 99] },
    });
    expect(failure.token).toBe('err-token-1');
  });

  it('returns the same object when nothing is secret, and never changes the caller\'s object', () => {
    const clean = { audit: { type: 'login.failed', details: { reason: 'wrong password', attempts: [1, 2] } }, request_id: 'r' };
    expect(redactSecrets(clean)).toBe(clean);
    const dirty = { a: { b: { password: 'p' } }, untouched: { x: 1 } };
    const out = redactSecrets(dirty) as typeof dirty;
    expect(dirty.a.b.password).toBe('p');
    expect(out.a.b.password).toBe(REDACTED);
    expect(out.untouched).toBe(dirty.untouched);
  });

  it('ends on a cycle or an absurd depth, hiding what lies past the limit instead of walking on', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(() => redactSecrets(cyclic)).not.toThrow();
    let deep: Record<string, unknown> = { token: 'deepest-secret' };
    for (let i = 0; i < 10_000; i += 1) deep = { next: deep };
    expect(JSON.stringify(redactSecrets(deep))).not.toContain('deepest-secret');
  });
});

describe('a log line', () => {
  let captured = '';
  afterEach(() => {
    setLogDestination(undefined);
    setLogLevel('warn');
  });

  it('carries the redacted fields, and an access-log line its fields as given', () => {
    captured = '';
    setLogLevel('info');
    setLogDestination(new Writable({ write(chunk, _encoding, done) { captured += String(chunk); done(); } }));
    log.info('audit event', { audit: { type: 'token.issued', details: { subject_token: 'st-secret-1', grant_id: 'g-7' } } });
    log.request({ method: 'POST', path: '/token', route: 'token', status: 200, duration_ms: 1.5, request_id: 'r-1', ip: '127.0.0.1' });
    const [audit, access] = captured.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit).toMatchObject({ level: 'info', msg: 'audit event', audit: { type: 'token.issued', details: { subject_token: REDACTED, grant_id: 'g-7' } } });
    expect(captured).not.toContain('st-secret-1');
    expect(access).toMatchObject({ msg: 'request', method: 'POST', path: '/token', status: 200, request_id: 'r-1' });
  });
});
