// The request pipeline (src/app.ts) is a table of named steps. The order is a security property: each gate
// must run before what it guards, and the README's architecture section must name the steps as they run.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => { app = await createTestApp(); });
afterAll(async () => { await app?.close(); });

const position = (name: string) => {
  const index = app.pipeline.indexOf(name);
  expect(index, `pipeline step "${name}"`).toBeGreaterThanOrEqual(0);
  return index;
};

describe('the request pipeline', () => {
  it('runs the error boundary before every gate, so a refusal or a fault anywhere leaves through errors.ts', () => {
    for (const later of ['canonical paths', 'token rate limit', 'input boundary', 'csrf check', 'our routes', 'oidc-provider']) {
      expect(position('error boundary')).toBeLessThan(position(later));
    }
  });

  it('settles one spelling per route before any gate that keys on the route', () => {
    for (const gate of ['token rate limit', 'input boundary', 'discovery aliases', 'csrf check', 'registration gate']) {
      expect(position('canonical paths')).toBeLessThan(position(gate));
    }
  });

  it('refuses hostile input before any parser or handler, and checks CSRF only after the form parser', () => {
    for (const later of ['page forms', 'our routes', 'registration gate', 'oidc-provider']) {
      expect(position('input boundary')).toBeLessThan(position(later));
    }
    expect(position('page forms')).toBeLessThan(position('csrf check'));
    expect(position('csrf check')).toBeLessThan(position('our routes'));
  });

  it('puts every gate of the provider\'s endpoints in front of oidc-provider, which runs last', () => {
    for (const gate of ['token rate limit', 'registration gate', 'leaving interstitial', 'authorization restart', 'adapter settlement']) {
      expect(position(gate)).toBeLessThan(position('oidc-provider'));
    }
    expect(app.pipeline.at(-1)).toBe('oidc-provider');
  });

  it('is described in the README in the order it runs', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const paragraph = readme.slice(readme.indexOf('Every request crosses, in this order'));
    const described = paragraph.slice(0, paragraph.indexOf('\n\n')).replace(/\s+/g, ' ');
    const offsets = app.pipeline.map((name) => described.indexOf(name));
    expect(offsets.filter((offset) => offset < 0).length, `steps the README does not name: ${app.pipeline.filter((_, i) => offsets[i]! < 0).join(', ')}`).toBe(0);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
  });
});
