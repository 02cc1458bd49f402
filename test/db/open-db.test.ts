// Embedded mode end to end: a server owns DATA_DIR and serves PGlite on its socket; a CLI in another
// role reaches the same data through it, and neither lands inside the other's transactions.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataDirInUseError, findLiveLockHolder } from '../../src/db/data-dir-lock.ts';
import type { Db } from '../../src/db/db.ts';
import { DataDirSocketError, openDb } from '../../src/db/open-db.ts';
import { pgliteSocketPath } from '../../src/db/pglite-socket.ts';

// One DATA_DIR for the whole file: its first open runs initdb (seconds), later opens are quick.
let dataDir: string;
const open: Db[] = [];

async function openRole(role: 'server' | 'cli'): Promise<Db> {
  const db = await openDb({ dataDir, role });
  open.push(db);
  return db;
}

async function closeAll(): Promise<void> {
  // CLI handles first: the server's close would otherwise wait on their connections.
  for (const db of open.splice(0).reverse()) await db.close();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'portcullis-data-'));
  const server = await openDb({ dataDir, role: 'server' });
  await server.exec('CREATE TABLE items (name text PRIMARY KEY)');
  await server.close();
});

afterEach(async () => {
  await closeAll();
  const server = await openRole('server');
  await server.query('DELETE FROM items');
  await closeAll();
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

async function names(db: Db): Promise<string[]> {
  return (await db.query<{ name: string }>('SELECT name FROM items ORDER BY name')).rows.map((row) => row.name);
}

describe('openDb in embedded mode', () => {
  it('lets a CLI reach the running server through the socket while the server keeps querying', async () => {
    const server = await openRole('server');
    await server.query('INSERT INTO items VALUES ($1)', ['from-server']);
    const cli = await openRole('cli');
    expect(cli.kind).toBe('pglite');
    expect(await names(cli)).toEqual(['from-server']);

    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => cli.query('INSERT INTO items VALUES ($1)', [`cli-${i}`])),
      ...Array.from({ length: 10 }, (_, i) => server.query('INSERT INTO items VALUES ($1)', [`srv-${i}`])),
    ]);
    expect(await names(server)).toHaveLength(21);
    expect(await cli.transaction((tx) => tx.query('SELECT 1'))).toMatchObject({ rowCount: 1 });
  });

  it("keeps a CLI statement out of the server's transaction, which then rolls back", async () => {
    const server = await openRole('server');
    const cli = await openRole('cli');
    let finishServer!: () => void;
    const serverMayFinish = new Promise<void>((resolve) => (finishServer = resolve));
    const serverTx = server.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1)', ['server-rolled-back']);
      await serverMayFinish;
      throw new Error('server changes its mind');
    });
    await sleep(20);
    const cliInsert = cli.query('INSERT INTO items VALUES ($1)', ['cli-kept']);
    await sleep(50);
    finishServer();
    await expect(serverTx).rejects.toThrow('server changes its mind');
    await cliInsert;
    expect(await names(server)).toEqual(['cli-kept']);
  });

  it('lets a CLI that connects during a server transaction wait for it, then proceed', async () => {
    const server = await openRole('server');
    await (await openDb({ dataDir, role: 'cli' })).close(); // an earlier CLI command, now gone
    await sleep(100); // its connection slot is free again
    let finishServer!: () => void;
    const serverMayFinish = new Promise<void>((resolve) => (finishServer = resolve));
    const serverTx = server.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1)', ['server-committed']);
      await serverMayFinish;
    });
    const cli = openDb({ dataDir, role: 'cli' }).then((db) => (open.push(db), db));
    await sleep(150); // the CLI's startup message is now queued behind the server's transaction
    finishServer();
    await serverTx;
    // Promptly: a stalled startup would only recover through the 5 s connect timeout and a retry.
    const opened = await Promise.race([cli, sleep(2_000).then(() => undefined)]);
    if (opened === undefined) throw new Error('the CLI stalled after the server transaction ended');
    expect(await names(opened)).toEqual(['server-committed']);
  });

  it("keeps the server's queries out of a CLI transaction, which then rolls back", async () => {
    const server = await openRole('server');
    const cli = await openRole('cli');
    let finishCli!: () => void;
    const cliMayFinish = new Promise<void>((resolve) => (finishCli = resolve));
    const cliTx = cli.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1)', ['cli-rolled-back']);
      await cliMayFinish;
      throw new Error('cli changes its mind');
    });
    await sleep(20);
    const serverInsert = server.query('INSERT INTO items VALUES ($1)', ['server-kept']);
    await sleep(50);
    finishCli();
    await expect(cliTx).rejects.toThrow('cli changes its mind');
    await serverInsert;
    expect(await names(cli)).toEqual(['server-kept']);
  });

  it('frees the server when a CLI disconnects in the middle of a transaction', async () => {
    const server = await openRole('server');
    const client = new pg.Client({ host: dataDir, user: 'postgres', database: 'postgres' });
    client.on('error', () => {});
    await client.connect();
    await client.query('BEGIN');
    await client.query('INSERT INTO items VALUES ($1)', ['abandoned']);
    // end() sends Terminate and hangs up without COMMIT, like a CLI command that exits mid-way.
    await client.end();
    await server.query('INSERT INTO items VALUES ($1)', ['after']);
    expect(await names(server)).toEqual(['after']);
  });

  it('frees the server when a raw client disconnects between Parse and Sync', async () => {
    const server = await openRole('server');
    await abandonHalfAQuery(pgliteSocketPath(dataDir));
    await server.query('INSERT INTO items VALUES ($1)', ['still-works']);
    expect(await names(server)).toEqual(['still-works']);
  });

  it('refuses a second server, and a second CLI while one is connected, with clear errors', async () => {
    await openRole('server');
    await expect(openDb({ dataDir, role: 'server' })).rejects.toBeInstanceOf(DataDirInUseError);
    await openRole('cli');
    const second = openDb({ dataDir, role: 'cli' });
    await expect(second).rejects.toBeInstanceOf(DataDirSocketError);
    await expect(second).rejects.toThrow(`is in use by process ${process.pid}, but its socket`);
  });

  it('opens PGlite directly for a CLI when no server runs, holding the lock until close', async () => {
    const cli = await openDb({ dataDir, role: 'cli' });
    expect(cli.kind).toBe('pglite');
    expect(findLiveLockHolder(dataDir)).toBe(process.pid);
    expect(existsSync(pgliteSocketPath(dataDir))).toBe(false);
    await cli.query('INSERT INTO items VALUES ($1)', ['direct']);
    await cli.close();
    expect(findLiveLockHolder(dataDir)).toBeUndefined();
  });

  it('closes a server with a CLI still connected, removing its socket and lock', async () => {
    const server = await openDb({ dataDir, role: 'server' });
    const cli = await openDb({ dataDir, role: 'cli' });
    await cli.query('SELECT 1');
    await server.close();
    expect(existsSync(pgliteSocketPath(dataDir))).toBe(false);
    expect(findLiveLockHolder(dataDir)).toBeUndefined();
    await cli.close();
  });
});

/** Speaks just enough of the wire protocol to leave an extended-query cycle half done, then hangs up. */
async function abandonHalfAQuery(socketPath: string): Promise<void> {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(8 + params.length, 0);
  startup.writeInt32BE(196_608, 4); // protocol 3.0
  const sql = Buffer.from('SELECT 1\0');
  const parse = Buffer.alloc(5);
  parse.write('P', 0);
  parse.writeInt32BE(4 + 1 + sql.length + 2, 1);
  const socket = connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    let sent = false;
    socket.on('data', (data) => {
      // ReadyForQuery ends the startup answer: now send Parse ('' statement) without a Sync and leave.
      if (!sent && data.includes(Buffer.from([0x5a, 0, 0, 0, 5]))) {
        sent = true;
        socket.write(Buffer.concat([parse, Buffer.from('\0'), sql, Buffer.from([0, 0])]), () => {
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
      }
    });
    socket.write(Buffer.concat([startup, params]));
  });
}
