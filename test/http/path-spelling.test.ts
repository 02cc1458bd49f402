// The spelling rules behind route resolution (src/http/path-spelling.ts): which spellings of a path are the
// same path (RFC 3986 §6.2.2), and the one canonical spelling of a route for given parameter values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPathOn, collapsedPath, normalSegment } from '../../src/http/path-spelling.ts';

describe('normalSegment', () => {
  it('decodes escaped unreserved characters, upper-cases other escapes, keeps reserved ones escaped', () => {
    expect(normalSegment('%72eg')).toBe('reg');
    expect(normalSegment('a%7e%2d')).toBe('a~-');
    expect(normalSegment('https%3a%2f%2fmcp.example.com%2Fmcp')).toBe('https%3A%2F%2Fmcp.example.com%2Fmcp');
  });

  it('has no normal form for a malformed escape or a character no URI path carries', () => {
    for (const raw of ['%', '%4', '%zz', 'a b', 'a"b', '<x>', 'é', 'a\\b']) expect(normalSegment(raw), raw).toBeUndefined();
  });
});

describe('collapsedPath', () => {
  it('drops empty segments, resolves dot segments and normalises escapes, and keeps letter case', () => {
    expect(collapsedPath('//reg//')).toBe('/reg');
    expect(collapsedPath('/./a/../Reg/%41bc')).toBe('/Reg/Abc');
    expect(collapsedPath('/%2E%2E/token')).toBe('/token');
    expect(collapsedPath('/')).toBe('/');
  });
});

describe('canonicalPathOn', () => {
  it('takes the template\'s literals and the request\'s values', () => {
    expect(canonicalPathOn('/reg/:clientId', '/REG/AbC')).toBe('/reg/AbC');
    expect(canonicalPathOn('/reg/:clientId', '/reg/%41bC/')).toBe('/reg/AbC');
    expect(canonicalPathOn('/oidc/interaction/:uid/login', '/OIDC/Interaction/x1/LOGIN')).toBe('/oidc/interaction/x1/login');
  });

  it('has none for an empty, dot or malformed value, a segment count that differs, or template syntax beyond :name', () => {
    expect(canonicalPathOn('/reg/:clientId', '/reg/..')).toBeUndefined();
    expect(canonicalPathOn('/reg/:clientId', '/reg/%2e')).toBeUndefined();
    expect(canonicalPathOn('/reg/:clientId', '/reg/%zz')).toBeUndefined();
    expect(canonicalPathOn('/reg/:clientId', '/reg/a/b')).toBeUndefined();
    expect(canonicalPathOn('/files/*rest', '/files/a')).toBeUndefined();
    expect(canonicalPathOn('/a{/:b}', '/a/x')).toBeUndefined();
  });

  it('maps every case, slash and escape variant of a canonical path back to it', () => {
    const literal = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    fc.assert(fc.property(fc.array(fc.oneof(literal.map((l) => ({ literal: l })), value.map((v) => ({ value: v }))), { minLength: 1, maxLength: 5 }),
      fc.boolean(), fc.boolean(), (parts, upper, trailing) => {
        const template = `/${parts.map((part, i) => ('literal' in part ? part.literal : `:p${i}`)).join('/')}`;
        const canonical = `/${parts.map((part) => ('literal' in part ? part.literal : part.value)).join('/')}`;
        const spelled = `/${parts.map((part) => ('literal' in part ? (upper ? part.literal.toUpperCase() : part.literal)
          : part.value.replace(/^[A-Za-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`))).join('//')}${trailing ? '/' : ''}`;
        expect(canonicalPathOn(template, canonical)).toBe(canonical);
        expect(canonicalPathOn(template, collapsedPath(spelled))).toBe(canonical);
      }), { numRuns: 300 });
  });
});
