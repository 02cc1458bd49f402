// The operator's domain policy: how a host is matched, how configuration and the CLI combine, and the
// `cimd` commands through the real CLI (a running server reads the same rows on its next request).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { isDomainAllowed, loadDomainPolicy, type EffectivePolicy } from '../../src/cimd/domain-policy.ts';
import { normaliseHost } from '../../src/cimd/host-name.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from '../cli/harness.ts';

const policy = (mode: EffectivePolicy['mode'], rules: Array<[string, 'allow' | 'deny']>): EffectivePolicy =>
  ({ mode, modeSource: 'config', rules: rules.map(([domain, rule]) => ({ domain, rule, source: 'config' })) });

describe('matching a host against the policy', () => {
  it('a rule covers the domain and its subdomains, not names that merely end the same way', () => {
    const allowList = policy('allow-list', [['example.com', 'allow']]);
    expect(isDomainAllowed(allowList, 'example.com')).toBe(true);
    expect(isDomainAllowed(allowList, 'app.EXAMPLE.com')).toBe(true);
    expect(isDomainAllowed(allowList, 'evilexample.com')).toBe(false);
    expect(isDomainAllowed(allowList, 'example.com.evil.net')).toBe(false);
  });

  it('deny-list refuses only denied domains; allow-all ignores rules; a deny beats an allow', () => {
    expect(isDomainAllowed(policy('deny-list', [['bad.org', 'deny']]), 'x.bad.org')).toBe(false);
    expect(isDomainAllowed(policy('deny-list', [['bad.org', 'deny']]), 'good.org')).toBe(true);
    expect(isDomainAllowed(policy('allow-all', [['bad.org', 'deny']]), 'bad.org')).toBe(true);
    expect(isDomainAllowed(policy('allow-list', [['example.com', 'allow'], ['x.example.com', 'deny']]), 'x.example.com')).toBe(false);
  });
});

describe('host spellings (case, trailing dot, IDN) are one host', () => {
  it('a deny rule cannot be dodged with a trailing dot, another case or the Unicode form', () => {
    const denyList = policy('deny-list', [['xn--bcher-kva.de', 'deny'], ['bad.org', 'deny']]);
    for (const host of ['bad.org.', 'BAD.org', 'app.Bad.Org.', 'bücher.de', 'BÜCHER.DE.', 'shop.bücher.de', 'xn--bcher-kva.de']) {
      expect(isDomainAllowed(denyList, host), host).toBe(false);
    }
    expect(isDomainAllowed(denyList, 'good.org.')).toBe(true);
    expect(isDomainAllowed(denyList, 'bad.org..')).toBe(false); // not a host name at all
    const allowList = policy('allow-list', [['example.com', 'allow']]);
    expect(isDomainAllowed(allowList, 'EXAMPLE.com.')).toBe(true);
    expect(isDomainAllowed(allowList, 'example.com..')).toBe(false);
    expect(isDomainAllowed(allowList, 'exa mple.com')).toBe(false);
  });

  it('configured and CLI domains are stored in the same ASCII form', () => {
    expect(loadConfig({ CIMD_DOMAIN_POLICY: 'deny-list', CIMD_DOMAINS: 'Bücher.DE., Example.com.' }).cimd.domainPolicy.domains)
      .toEqual(['xn--bcher-kva.de', 'example.com']);
    expect(() => loadConfig({ CIMD_DOMAIN_POLICY: 'deny-list', CIMD_DOMAINS: 'example..com' })).toThrow(/CIMD_DOMAINS/);
  });

  it('normaliseHost: one comparable form', () => {
    expect(normaliseHost('Example.COM.')).toBe('example.com');
    expect(normaliseHost('ﬀ.example')).toBe('ff.example');
    expect(normaliseHost('[::1]')).toBe('::1');
    expect(normaliseHost('has space.com')).toBeUndefined();
    expect(normaliseHost('.')).toBeUndefined();
  });
});

describe('configuration', () => {
  it('reads the mode and the list, and refuses a list without a mode or a malformed domain', () => {
    expect(loadConfig({ CIMD_DOMAIN_POLICY: 'allow-list', CIMD_DOMAINS: 'Example.com, apps.org' }).cimd.domainPolicy)
      .toEqual({ mode: 'allow-list', domains: ['example.com', 'apps.org'] });
    expect(() => loadConfig({ CIMD_DOMAINS: 'example.com' })).toThrow(/CIMD_DOMAINS: set CIMD_DOMAIN_POLICY/);
    expect(() => loadConfig({ CIMD_DOMAIN_POLICY: 'deny-list', CIMD_DOMAINS: 'https://example.com/' })).toThrow(/CIMD_DOMAINS/);
    expect(() => loadConfig({ CIMD_DOMAIN_POLICY: 'block-some' })).toThrow(/CIMD_DOMAIN_POLICY/);
    expect(loadConfig({}).cimd).toMatchObject({ allowLoopback: false, domainPolicy: { mode: 'allow-all', domains: [] } });
  });
});

describe('cimd commands', () => {
  let sandbox: Sandbox;
  beforeAll(async () => { sandbox = await createSandbox(); });
  afterAll(async () => { await sandbox?.cleanup(); });

  it('set the mode and rules the server then applies, over the configured list', async () => {
    const env = { CIMD_DOMAIN_POLICY: 'allow-list', CIMD_DOMAINS: 'example.com' };
    const initial = parseJsonOutput(await sandbox.cli(['cimd', 'list', '--json'], env));
    expect(initial).toEqual({ mode: 'allow-list', mode_source: 'config', domains: [{ domain: 'example.com', rule: 'allow', source: 'config' }] });

    const allowed = await sandbox.cli(['cimd', 'allow', '--domain', 'Apps.Example.org'], env);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('Allowed apps.example.org.');
    expect((await sandbox.cli(['cimd', 'deny', '--domain', 'example.com'], env)).code).toBe(0);
    const stored = await sandbox.withDb((db) => loadDomainPolicy(db, { mode: 'allow-list', domains: ['example.com'] }));
    expect(isDomainAllowed(stored, 'apps.example.org')).toBe(true);
    expect(isDomainAllowed(stored, 'example.com')).toBe(false);

    const switched = parseJsonOutput(await sandbox.cli(['cimd', 'policy', '--mode', 'deny-list', '--json'], env));
    expect(switched).toMatchObject({ mode: 'deny-list', mode_source: 'cli' });
    const listed = await sandbox.cli(['cimd', 'list'], env);
    expect(listed.stdout).toMatch(/Policy: deny-list \(from the CLI\)/);
    expect(listed.stdout).toMatch(/example\.com\s+deny\s+cli/);

    expect((await sandbox.cli(['cimd', 'remove', '--domain', 'example.com'], env)).code).toBe(0);
    const missing = await sandbox.cli(['cimd', 'remove', '--domain', 'example.com'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('error: no CLI rule for example.com');
  }, 180_000); // seven CLI processes, each opening the database

  it('refuses a malformed domain or mode with a usage error and no stack trace', async () => {
    for (const args of [['cimd', 'allow', '--domain', 'https://x.com/'], ['cimd', 'policy', '--mode', 'everything'], ['cimd', 'deny']]) {
      const result = await sandbox.cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).not.toMatch(STACK_FRAME);
    }
  }, 180_000);
});
