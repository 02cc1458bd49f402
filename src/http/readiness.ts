// GET /readyz for load balancers and orchestrators: 200 when the database answers, has room to write
// and every migration file has been applied; otherwise 503 with a JSON reason (the process itself is /healthz).
import type Koa from 'koa';
import type { Db } from '../db/db.ts';
import { DEFAULT_MIGRATIONS_DIR, pendingMigrations } from '../db/migrate.ts';

// A probe must answer within its own timeout: a hung pool is "not ready", not a stuck request.
const CHECK_TIMEOUT_MS = 2_000;

export interface ReadinessOptions {
  migrationsDir?: string;
  /** When the disk was found full and still is (src/db/disk-full-watch.ts). */
  diskFullSince?: () => Date | undefined;
}

export function readiness(db: Db, { migrationsDir = DEFAULT_MIGRATIONS_DIR, diskFullSince }: ReadinessOptions = {}): Koa.Middleware {
  return async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const fullSince = diskFullSince?.();
    if (fullSince) {
      // Reads still work, so the query below would pass: say what is wrong instead.
      ctx.status = 503;
      ctx.body = { status: 'not_ready', reason: 'disk_full', since: fullSince.toISOString(), description: 'the database disk is full: free space (writes resume by themselves)' };
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), CHECK_TIMEOUT_MS); });
    let pending: string[] | 'timeout';
    try {
      pending = await Promise.race([pendingMigrations(db, migrationsDir), timeout]);
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', reason: 'database_unavailable', description: 'the database did not answer' };
      return;
    } finally {
      clearTimeout(timer);
    }
    if (pending === 'timeout') {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', reason: 'database_unavailable', description: `the database did not answer within ${CHECK_TIMEOUT_MS} ms` };
    } else if (pending.length > 0) {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', reason: 'migrations_pending', pending, description: 'run the pending migrations (npm run cli -- migrate, or restart)' };
    } else {
      ctx.body = { status: 'ready' };
    }
  };
}
