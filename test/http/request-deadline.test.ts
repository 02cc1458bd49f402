// REQUEST_DEADLINE_MS: a request that hangs on anything (here a handler that never finishes) is answered
// 503 + Retry-After within the deadline, as a page for a browser and OAuth JSON for a client.
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorBoundary } from '../../src/errors.ts';
import { requestDeadline } from '../../src/http/request-deadline.ts';
import { loadConfig } from '../../src/config.ts';

function hangingApp(deadlineMs: number) {
  const app = new Koa();
  app.use(errorBoundary());
  app.use(requestDeadline(deadlineMs));
  app.use(async (ctx) => {
    if (ctx.path === '/fast') { ctx.body = { ok: true }; return; }
    await new Promise((resolve) => setTimeout(resolve, 30_000).unref());
    ctx.body = { late: true };
  });
  return app.callback();
}

describe('request deadline', () => {
  it('answers a hanging request 503 + Retry-After within the deadline, JSON or a page, and leaves fast ones alone', async () => {
    const server = hangingApp(500);
    const started = Date.now();
    const [json, page] = await Promise.all([
      request(server).get('/slow').accept('json').timeout(10_000),
      request(server).get('/slow').accept('html').timeout(10_000),
    ]);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(json.status).toBe(503);
    expect(json.headers['retry-after']).toBe('5');
    expect(json.body.error).toBe('temporarily_unavailable');
    expect(page.status).toBe(503);
    expect(page.type).toBe('text/html');
    expect((await request(server).get('/fast')).body).toEqual({ ok: true });
  });

  it('is configured by REQUEST_DEADLINE_MS and DB_STATEMENT_TIMEOUT_MS, with defaults of a few seconds', () => {
    expect(loadConfig({})).toMatchObject({ requestDeadlineMs: 10_000, dbStatementTimeoutMs: 5_000 });
    expect(loadConfig({ REQUEST_DEADLINE_MS: '2500', DB_STATEMENT_TIMEOUT_MS: '800' })).toMatchObject({ requestDeadlineMs: 2_500, dbStatementTimeoutMs: 800 });
    expect(() => loadConfig({ DB_STATEMENT_TIMEOUT_MS: 'soon' })).toThrow(/DB_STATEMENT_TIMEOUT_MS/);
  });
});
