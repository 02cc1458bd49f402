// `admin-token create|list|revoke` through the real CLI, against a running server: the printed token
// opens /admin/api at once, only its digest is stored, and a revoked token is refused at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, parseJsonOutput, startServer, STACK_FRAME, type RunningServer, type Sandbox } from '../cli/harness.ts';

let sandbox: Sandbox;
let server: RunningServer;

beforeAll(async () => {
  sandbox = await createSandbox();
  server = await startServer(sandbox);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await sandbox?.cleanup();
});

const usersWith = (token: string) => fetch(`${server.baseUrl}/admin/api/users`, { headers: { authorization: `Bearer ${token}` } });

describe('admin-token', () => {
  it('creates a token that works on the running server, lists it without the token, and revokes it', async () => {
    const created = await sandbox.cli(['admin-token', 'create', '--name', 'deploy bot', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { id, token, name } = parseJsonOutput(created) as { id: string; token: string; name: string };
    expect(name).toBe('deploy bot');
    expect(token).toMatch(/^pcadm_[A-Za-z0-9_-]{43}$/);
    expect((await usersWith(token)).status).toBe(200);

    const listed = await sandbox.cli(['admin-token', 'list']);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('deploy bot');
    expect(listed.stdout).not.toContain(token);
    const stored = await sandbox.withDb((db) => db.query<{ token_digest: string }>('SELECT token_digest FROM admin_api_tokens'));
    expect(stored.rows.map((r) => r.token_digest).join()).not.toContain(token.slice(6));

    const revoked = await sandbox.cli(['admin-token', 'revoke', `--id=${id}`, '--json']);
    expect(parseJsonOutput(revoked)).toMatchObject({ id, status: 'revoked', changed: true });
    expect((await usersWith(token)).status).toBe(401);
    const listedAfter = parseJsonOutput(await sandbox.cli(['admin-token', 'list', '--json'])) as { tokens: { id: string; status: string }[] };
    expect(listedAfter.tokens).toEqual([expect.objectContaining({ id, status: 'revoked' })]);
    const events = await sandbox.withDb((db) => db.query<{ event_type: string }>(
      `SELECT event_type FROM audit_events WHERE event_type LIKE 'admin_token.%' ORDER BY id`));
    expect(events.rows.map((r) => r.event_type)).toEqual(['admin_token.created', 'admin_token.revoked']);
  }, 180_000);

  it('says what is wrong, without a stack trace: a missing name (exit 2), an unknown id (exit 1)', async () => {
    const noName = await sandbox.cli(['admin-token', 'create']);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('--name is required');
    const unknown = await sandbox.cli(['admin-token', 'revoke', '--id', 'no-such-token']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no admin API token with id no-such-token');
    expect(unknown.stderr).not.toMatch(STACK_FRAME);
  }, 180_000);
});
