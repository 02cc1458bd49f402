// CLI arguments the database cannot take (out-of-range dates and numbers from a real command line; NUL
// and lone surrogates from any in-process caller) are a usage error: one clear line, exit 2, no stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from '../../src/cli/args.ts';
import { createSandbox, STACK_FRAME, type Sandbox } from '../cli/harness.ts';

describe('the argument parser', () => {
  const spec = { email: { type: 'string' as const }, scope: { type: 'string' as const, multiple: true } };
  it.each([
    ['NUL', ['--email', 'a\u0000@example.com'], /--email contains a NUL character/],
    ['a lone surrogate', ['--email', 'a\uD800@example.com'], /--email contains an unpaired UTF-16 surrogate/],
    ['NUL in the second of a repeated option', ['--scope', 'a=read', '--scope', 'b\u0000=read'], /--scope contains a NUL character/],
  ])('refuses %s as a usage error', (_label, argv, message) => {
    expect(() => parseOptions('user add', argv, spec)).toThrow(UsageError);
    expect(() => parseOptions('user add', argv, spec)).toThrow(message);
  });

  it('keeps ordinary non-ASCII values', () => {
    expect(parseOptions('user add', ['--email', 'zoë@exämple.com 😀'], spec).string('email')).toBe('zoë@exämple.com 😀');
  });
});

describe('the real CLI', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox();
    expect((await sandbox.cli(['migrate'])).code).toBe(0);
  }, 120_000);
  afterAll(async () => sandbox?.cleanup());

  it.each([
    ['a date of year 0', ['audit', 'export', '--since', '0000-01-01'], /--since expects an ISO 8601 date/],
    ['an until of year 0', ['audit', 'export', '--since', '2026-01-01', '--until', '0000-06-30T00:00:00Z'], /--until expects an ISO 8601 date/],
    ['a TTL beyond any integer', ['resource', 'add', '--uri', 'https://mcp.example.com/mcp', '--name', 'n', '--scope', 'a=read', '--ttl', '99999999999999999999999', '--no-check'], /ttl/i],
  ])('%s: one line, exit 2, no stack trace', async (_label, argv, message) => {
    const result = await sandbox.cli(argv);
    expect(result.stderr).toMatch(message);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }, 120_000);
});
