// The audit trail is append-only in the database itself: UPDATE, DELETE and TRUNCATE are refused to
// every statement but the retention purge's, which deletes only events past AUDIT_RETENTION_DAYS.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordAuditEvent, listAuditEvents } from '../../src/audit/store.ts';
import { purgeExpiredAuditEvents } from '../../src/audit/retention.ts';
import { loadConfig } from '../../src/config.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';

let testDb: TestDb;
beforeEach(async () => { testDb = await createMigratedTestDb(); });
afterEach(async () => testDb?.cleanup());

const DAY = 24 * 3600 * 1000;

async function failureOf(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the statement to be refused');
}

describe('append-only audit_events', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, and the row stays as written', async () => {
    const { db } = testDb;
    await recordAuditEvent(db, { type: 'login.failed', outcome: 'failure', ip: '203.0.113.9' });
    expect((await failureOf(db.query(`UPDATE audit_events SET outcome = 'success'`))).message).toMatch(/append-only/);
    expect((await failureOf(db.query(`UPDATE audit_events SET details = '{}'::jsonb WHERE true`))).message).toMatch(/append-only/);
    expect((await failureOf(db.query('DELETE FROM audit_events'))).message).toMatch(/append-only/);
    expect((await failureOf(db.exec('TRUNCATE audit_events'))).message).toMatch(/append-only/);
    // Even inside a transaction that sets the purge flag for someone else's session only.
    expect((await failureOf(db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('portcullis.audit_purge', 'off', true)`);
      await tx.query('DELETE FROM audit_events');
    }))).message).toMatch(/append-only/);
    const [event] = await listAuditEvents(db);
    expect(event).toMatchObject({ event_type: 'login.failed', outcome: 'failure', ip: '203.0.113.9' });
  });

  it('the purge flag does not outlive the purge transaction', async () => {
    const { db } = testDb;
    await recordAuditEvent(db, { type: 'login.failed', outcome: 'failure' });
    await purgeExpiredAuditEvents(db, 1);
    expect((await failureOf(db.query('DELETE FROM audit_events'))).message).toMatch(/append-only/);
  });
});

describe('retention purge', () => {
  it('deletes events older than AUDIT_RETENTION_DAYS only, and records that it did', async () => {
    const { db } = testDb;
    const now = new Date();
    // Events written in the past: rows inserted with an explicit time (INSERT is allowed).
    for (const daysAgo of [400, 366, 364, 1]) {
      await db.query(`INSERT INTO audit_events (occurred_at, event_type, details) VALUES ($1, 'login.succeeded', $2)`,
        [new Date(now.getTime() - daysAgo * DAY), JSON.stringify({ days_ago: daysAgo })]);
    }
    const retentionDays = loadConfig({}).auditRetentionDays;
    expect(retentionDays).toBe(365);
    expect(await purgeExpiredAuditEvents(db, retentionDays, 1, now)).toBe(2); // batch of 1: loops until done
    const left = await listAuditEvents(db, { type: 'login.succeeded' });
    expect(left.map((e) => e.details.days_ago).sort()).toEqual([1, 364]);
    const [purged] = await listAuditEvents(db, { type: 'audit.purged' });
    expect(purged).toMatchObject({ actor_type: 'system', details: { deleted: 2, retention_days: 365 } });
    // Nothing old left: a second run deletes nothing and records nothing.
    expect(await purgeExpiredAuditEvents(db, retentionDays, 1000, now)).toBe(0);
    expect(await listAuditEvents(db, { type: 'audit.purged' })).toHaveLength(1);
  });

  it('AUDIT_RETENTION_DAYS is validated', () => {
    expect(loadConfig({ AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(30);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: '0' })).toThrow(/AUDIT_RETENTION_DAYS/);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: 'forever' })).toThrow(/AUDIT_RETENTION_DAYS/);
  });
});
