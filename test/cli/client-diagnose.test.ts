// `client diagnose` through the real CLI process: a client's recorded failures in text and --json, each
// with its cause and fix; an unknown client is an error (exit 1), a missing --id a usage error (exit 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureError, captureRequest } from '../../src/diagnostics/capture.ts';
import { recordFailure } from '../../src/diagnostics/store.ts';
import { addResource } from '../../src/resources/store.ts';
import { notesResource } from '../helpers/test-app.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from './harness.ts';

const NOTES = 'https://mcp.example.com/mcp';
const REDIRECT = 'http://127.0.0.1:33418/callback';
const REFRESH_TOKEN = 'rt-secret-value-that-must-never-show';
let sandbox: Sandbox;
let clientId: string;

beforeAll(async () => {
  sandbox = await createSandbox();
  const added = await sandbox.cli(['client', 'add', '--name', 'Desktop', '--redirect-uri', REDIRECT, '--json']);
  expect(added.code, added.stderr).toBe(0);
  clientId = parseJsonOutput(added).client_id as string;
  await sandbox.withDb(async (db) => {
    await addResource(db, notesResource(NOTES), 300);
    // What src/oidc/failure-events.ts records for these two failures (test/diagnostics/ drives them for real).
    await recordFailure(db, {
      clientId, endpoint: 'authorization',
      ...captureError({ error: 'invalid_redirect_uri', error_description: 'redirect_uri did not match any of the client\'s registered redirect_uris' }),
      request: captureRequest('authorization', { redirect_uri: `${REDIRECT}/`, resource: NOTES, scope: 'notes:read', response_type: 'code', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' }, false),
    });
    await recordFailure(db, {
      clientId, endpoint: 'token',
      ...captureError({ error: 'invalid_grant', error_description: 'grant request is invalid', error_detail: 'refresh token already used' }),
      request: captureRequest('token', { grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN }, false),
    });
  });
});
afterAll(async () => { await sandbox?.cleanup(); });

describe('client diagnose', () => {
  it('prints each failure: what was asked, the error, the cause and the fix, most recent first', async () => {
    const result = await sandbox.cli(['client', 'diagnose', `--id=${clientId}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Client ${clientId} ("Desktop"): operator, active`);
    expect(result.stdout).toContain('2 recent failure(s), most recent first');
    expect(result.stdout).toMatch(/1\. \S+ {2}token request \(\/token\)\n {3}error: invalid_grant: grant request is invalid \[refresh token already used\]\n {3}asked: grant_type=refresh_token client_auth=none\n {3}cause: A refresh token was used again/);
    expect(result.stdout).toContain(`asked: response_type=code redirect_uri=${REDIRECT}/ resource=${NOTES} scope=notes:read code_challenge=sent code_challenge_method=S256`);
    expect(result.stdout).toContain(`It nearly matches "${REDIRECT}": it differs only by a trailing slash.`);
    expect(result.stdout).toContain(`fix:   Send exactly "${REDIRECT}"`);
    expect(result.stdout).not.toContain(REFRESH_TOKEN);
    expect(result.stdout).not.toContain('c'.repeat(43));
  });

  it('--json prints one object in the admin API\'s wire form', async () => {
    const result = await sandbox.cli(['client', 'diagnose', `--id=${clientId}`, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const json = parseJsonOutput(result);
    expect(json.client).toEqual({ client_id: clientId, client_name: 'Desktop', status: 'active', source: 'operator', redirect_uris: [REDIRECT] });
    expect(json.failures).toEqual([
      expect.objectContaining({ endpoint: 'token', error: 'invalid_grant', error_detail: 'refresh token already used', cause: 'refresh_token_replayed', occurrences: 1, request: { grant_type: 'refresh_token', client_auth: 'none' } }),
      expect.objectContaining({ endpoint: 'authorization', error: 'invalid_redirect_uri', cause: 'redirect_uri_not_registered', fix: expect.stringContaining(`Send exactly "${REDIRECT}"`) }),
    ]);
    expect(result.stdout).not.toContain(REFRESH_TOKEN);
  });

  it('says so for a client without failures, and refuses an unknown client or a missing --id', async () => {
    const other = parseJsonOutput(await sandbox.cli(['client', 'add', '--name', 'Quiet', '--redirect-uri', REDIRECT, '--json'])).client_id as string;
    const quiet = await sandbox.cli(['client', 'diagnose', `--id=${other}`]);
    expect(quiet.stdout).toContain('No failed authorization or token requests recorded for this client in the last 30 days.');

    const unknown = await sandbox.cli(['client', 'diagnose', '--id', 'no-such-client']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr.trim()).toBe('error: client "no-such-client" is not registered');
    expect(unknown.stderr).not.toMatch(STACK_FRAME);
    const missing = await sandbox.cli(['client', 'diagnose']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--id');
  });
});
