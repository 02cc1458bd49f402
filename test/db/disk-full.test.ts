// A full disk for real: the app runs on PGlite in a small tmpfs that the test fills. Writes answer
// 503 + Retry-After (never 500), /readyz says disk_full, and once space is freed both recover by themselves.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPgliteDb, type PgliteDb } from '../../src/db/pglite-db.ts';
import { ISSUER, TEST_SECRETS } from '../helpers/test-app.ts';

// Mounting a tmpfs needs root (the test machines run as root); elsewhere this test cannot run.
const canMount = process.getuid?.() === 0;

/** Fills the file system holding `dir` to the last byte, with one file the test deletes later. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const { bavail, bsize } = statfsSync(dir);
  try { writeFileSync(filler, Buffer.alloc(Math.max(0, Number(bavail * bsize) - 64 * 1024))); } catch { /* full already */ }
  // The last blocks one small write at a time, until the kernel refuses.
  for (;;) {
    try { appendFileSync(filler, Buffer.alloc(4096)); } catch { return filler; }
  }
}

describe.runIf(canMount)('a full disk under PGlite', () => {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-disk-'));
  const disk = join(root, 'disk');
  let db: PgliteDb;
  let server: ReturnType<Awaited<ReturnType<typeof createApp>>['app']['callback']>;
  let closeApp: () => Promise<void>;
  beforeAll(async () => {
    mkdirSync(disk);
    // Room for a fresh PGlite cluster (about 40 MB) and little more.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=80m', 'tmpfs', disk]);
    db = await openPgliteDb(join(disk, 'pgdata'));
    await migrate(db);
    const built = await createApp({ config: loadConfig({ ISSUER }), db, secrets: TEST_SECRETS });
    server = built.app.callback();
    closeApp = built.close;
  }, 60_000);
  afterAll(async () => {
    await closeApp?.();
    await db?.close();
    execFileSync('umount', [disk]);
    rmSync(root, { recursive: true, force: true });
  });

  const http = () => request.agent(server).set('Host', 'localhost:4000');
  const register = () => http().post('/reg').send({
    client_name: 'Disk test', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  });

  it('answers writes 503 + Retry-After, reports disk_full on /readyz, and recovers once space is freed', async () => {
    expect((await http().get('/readyz')).status).toBe(200);
    const filler = fillDisk(disk);

    const refused = await register();
    expect(refused.status, refused.text).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body.error).toBe('temporarily_unavailable');
    const ready = await http().get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not_ready', reason: 'disk_full' });
    // Reading still works: discovery answers as usual.
    expect((await http().get('/.well-known/oauth-authorization-server')).status).toBe(200);

    unlinkSync(filler);
    const registered = await register();
    expect(registered.status, registered.text).toBe(201);
    expect((await http().get('/readyz')).body).toEqual({ status: 'ready' });
    const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM oidc_models WHERE model = $1', ['Client']);
    expect(rows[0]!.n).toBe(1);
  }, 60_000);
});
