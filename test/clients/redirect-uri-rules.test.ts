// The pure redirect-URI rules (src/clients/redirect-uri-rules.ts) that self-registration, CIMD documents
// and operators share: what kind a URI is, why one is refused, and what application type a client is.
import { describe, expect, it } from 'vitest';
import {
  classifyRedirectUri, inferApplicationType, isLoopbackHttpUri, isNativeLoopbackClient, redirectUriProblem,
} from '../../src/clients/redirect-uri-rules.ts';

const ALLOWED_FORMS = /^must use https, or http on a loopback address .* \(RFC 8252 §7\.1\)$/;

describe('classifying a redirect URI', () => {
  it.each([
    ['https://app.example.com/callback', 'https'],
    ['https://app.example.com:8443/cb?x=1', 'https'],
    ['http://127.0.0.1/callback', 'loopback_http'],
    ['http://127.0.0.1:53682/callback', 'loopback_http'],
    ['http://[::1]:8080/cb', 'loopback_http'],
    ['http://localhost:3000/cb', 'loopback_http'],
    ['HTTP://LOCALHOST:3000/cb', 'loopback_http'],
    // RFC 8252 §7.1: a reversed domain name its publisher controls.
    ['com.example.app:/oauth2redirect', 'private_use'],
    ['com.example.app://callback', 'private_use'],
  ] as const)('%s is %s', (uri, kind) => {
    expect(classifyRedirectUri(uri)).toEqual({ kind });
  });

  it.each([
    [42, 'must be a string'],
    [undefined, 'must be a string'],
    ['/callback', 'must be an absolute URI'],
    ['app.example.com/callback', 'must be an absolute URI'],
    ['https://app.example.com/cb#state', 'must not contain a fragment'],
    ['https://app.example.com/cb#', 'must not contain a fragment'],
    ['https://app.example.com/*', 'must not contain a wildcard'],
  ] as const)('%j is refused: %s', (uri, problem) => {
    expect(classifyRedirectUri(uri)).toEqual({ problem });
  });

  it.each([
    'http://app.example.com/callback', // plain http off loopback: the code would cross the network in clear
    'http://127.0.0.2/callback', 'http://localhost.evil.example/cb', 'http://0.0.0.0/cb',
    'javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'blob:https://app.example.com/1',
    'about:blank', 'ws://127.0.0.1/cb', 'wss://app.example.com/cb',
    'myapp:/callback', // one label: anyone's to claim (RFC 8252 §7.1)
  ])('%s is never registrable, and the refusal names the allowed forms', (uri) => {
    const classified = classifyRedirectUri(uri);
    expect('problem' in classified && classified.problem).toMatch(ALLOWED_FORMS);
  });
});

describe('a redirect URI for an application type', () => {
  it('lets a web client use https only', () => {
    expect(redirectUriProblem('https://app.example.com/cb', 'web')).toBeUndefined();
    for (const uri of ['http://127.0.0.1:4000/cb', 'com.example.app:/cb']) {
      expect(redirectUriProblem(uri, 'web')).toMatch(/^must use https for a web client; .*application_type "native"/);
    }
  });

  it('lets a native app, or a client of no stated type, use all three forms', () => {
    for (const uri of ['https://app.example.com/cb', 'http://[::1]:4000/cb', 'com.example.app:/cb']) {
      expect(redirectUriProblem(uri, 'native')).toBeUndefined();
      expect(redirectUriProblem(uri)).toBeUndefined();
    }
  });

  it('gives the same refusal whatever the type for a URI nobody may register', () => {
    for (const type of ['web', 'native', undefined] as const) {
      expect(redirectUriProblem('https://app.example.com/cb#x', type)).toBe('must not contain a fragment');
    }
  });
});

describe('what kind of client the redirect URIs make', () => {
  it('infers native from any loopback or private-use URI, web otherwise', () => {
    expect(inferApplicationType(['https://app.example.com/cb'])).toBe('web');
    expect(inferApplicationType(['https://app.example.com/cb', 'http://127.0.0.1/cb'])).toBe('native');
    expect(inferApplicationType(['com.example.app:/cb'])).toBe('native');
    // A refused URI says nothing about the client: it does not make it native.
    expect(inferApplicationType(['http://app.example.com/cb', 42])).toBe('web');
    expect(inferApplicationType([])).toBe('web');
  });

  it('treats a client as a loopback native app (any port, RFC 8252 §7.3) only when every URI is loopback http', () => {
    expect(isNativeLoopbackClient(['http://127.0.0.1/cb', 'http://localhost:9000/cb'])).toBe(true);
    expect(isNativeLoopbackClient(['http://127.0.0.1/cb', 'https://app.example.com/cb'])).toBe(false);
    expect(isNativeLoopbackClient(['http://127.0.0.1/cb', 7])).toBe(false);
    expect(isNativeLoopbackClient([])).toBe(false);
  });

  it('recognises loopback http by host, not by a look-alike name', () => {
    expect(isLoopbackHttpUri('http://127.0.0.1:1/x')).toBe(true);
    expect(isLoopbackHttpUri('https://127.0.0.1/x')).toBe(false);
    expect(isLoopbackHttpUri('http://localhost.example.com/x')).toBe(false);
    expect(isLoopbackHttpUri('not a uri')).toBe(false);
  });
});
