// Prometheus metrics (prom-client), one registry per app: requests by route template and status with
// latency, and domain counters fed by the audit trail. Served at /metrics to holders of METRICS_TOKEN.
import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import compose from 'koa-compose';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/db.ts';
import { onAuditEvents } from '../audit/observers.ts';
import { AppError, errorBoundary } from '../errors.ts';
import { countOpenDriftByResource } from '../tools/store.ts';

export interface Metrics {
  registry: Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  rateLimited(limit: string): void;
  /** GET /metrics: 404 unless METRICS_TOKEN is set, 401 without it as a Bearer token. */
  endpoint: Koa.Middleware;
  close(): void;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function createMetrics(db: Db, metricsToken: string | undefined): Metrics {
  const registry = new Registry();
  const requests = new Histogram({
    name: 'portcullis_http_request_duration_seconds', help: 'HTTP requests by route template and status, with latency',
    labelNames: ['method', 'route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  const tokensIssued = new Counter({
    name: 'portcullis_tokens_issued_total', help: 'Access tokens issued, by grant type and resource',
    labelNames: ['grant_type', 'resource'], registers: [registry],
  });
  const consents = new Counter({
    name: 'portcullis_consents_total', help: 'Consent decisions', labelNames: ['decision'], registers: [registry],
  });
  const replays = new Counter({
    name: 'portcullis_refresh_token_replays_total', help: 'Refresh tokens replayed: a rotated or superseded token presented again (grant revoked)', registers: [registry],
  });
  const loginFailures = new Counter({
    name: 'portcullis_login_failures_total', help: 'Failed sign-ins, by reason', labelNames: ['reason'], registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'portcullis_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['limit'], registers: [registry],
  });
  // Read from the table at each scrape (not counted from audit events, which a transaction records on its
  // own connection): what an alert wants is "some tool differs from its approved definition right now".
  new Gauge({
    name: 'portcullis_tool_drift_open', help: 'Tools whose definition differs from the approved one, not yet approved again (issue 14)',
    labelNames: ['resource'], registers: [registry],
    async collect() {
      this.reset();
      for (const [resource, tools] of await countOpenDriftByResource(db)) this.set({ resource }, tools);
    },
  });
  new Gauge({
    name: 'portcullis_db_pool_connections', help: 'Database connections by state (embedded PGlite: one session)',
    labelNames: ['state'], registers: [registry],
    collect() {
      const stats = db.poolStats?.();
      if (!stats) return void this.set({ state: 'total' }, 1);
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });

  // Counted where the events are recorded, so the numbers match the audit trail; only this app's
  // database, since tests run several apps in one process.
  const unsubscribe = onAuditEvents((source, events) => {
    if (source !== db) return;
    for (const event of events) {
      switch (event.type) {
        case 'token.issued':
          tokensIssued.inc({ grant_type: String(event.details?.grant_type ?? 'unknown'), resource: event.resource ?? 'none' });
          break;
        case 'consent.granted': consents.inc({ decision: 'granted' }); break;
        case 'consent.denied': consents.inc({ decision: 'denied' }); break;
        case 'refresh_token.replay_detected': replays.inc(); break;
        case 'login.failed': loginFailures.inc({ reason: 'bad_credentials' }); break;
        case 'login.throttled': loginFailures.inc({ reason: 'throttled' }); break;
        default: break;
      }
    }
  });

  const expected = metricsToken === undefined ? undefined : digest(`Bearer ${metricsToken}`);
  const serveMetrics: Koa.Middleware = async (ctx) => {
    // Unset: no metrics endpoint at all, the bare 404 of a path that names no route. Labels name
    // clients and resources, which are not public.
    if (!expected) return void (ctx.status = 404);
    if (!timingSafeEqual(digest(ctx.get('authorization')), expected)) {
      throw new AppError('invalid_token', 'send METRICS_TOKEN as a Bearer token', { challenge: 'Bearer realm="metrics"' });
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  };
  // A scraper's endpoint: its refusal is JSON whatever the Accept header says.
  const endpoint = compose([errorBoundary({ alwaysJson: true }), serveMetrics]) as Koa.Middleware;

  return {
    registry,
    observeRequest: (method, route, status, seconds) => requests.observe({ method, route, status: String(status) }, seconds),
    rateLimited: (limit) => rateLimited.inc({ limit }),
    endpoint,
    close: () => void unsubscribe(),
  };
}
