// A generated sweep (fast-check) of hostile values through every parameter of every route, as query,
// form, JSON, path segment and Basic credentials: never a 5xx, never a stack or SQL text, and a value
// the database cannot store is refused (4xx) with nothing written to any table.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { flushFailureWrites } from '../../src/oidc/failure-events.ts';
import { createAdminTestApp, type AdminTestApp } from '../admin/helpers.ts';
import { hostileValue, percentEncodeUnits, type HostileValue } from './hostile-values.ts';
import { buildSweepRoutes, type Placement, type SweepRoute } from './sweep-routes.ts';

// Fixed, printed, and overridable (SWEEP_SEED / SWEEP_RUNS) to replay or widen a failing run.
const SEED = Number(process.env.SWEEP_SEED ?? 1101);
const RUNS = Number(process.env.SWEEP_RUNS ?? 600);
// What must never reach a client: stack frames, SQL or driver text, internal paths.
const LEAK = /\n\s+at |node_modules|SQLSTATE|invalid byte sequence|unsupported Unicode escape|violates .* constraint|relation "|column "|syntax error at|PGlite|server_error/;

let app: AdminTestApp;
let routes: SweepRoute[];
let tables: string[];
beforeAll(async () => {
  app = await createAdminTestApp({ REGISTRATION_MAX_PER_IP: '100000' });
  routes = await buildSweepRoutes(app);
  const { rows } = await app.db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1");
  tables = rows.map((row) => row.table_name);
}, 120_000);
afterAll(async () => app?.close());

/** Rows in every table of the schema: a refused request must leave each count as it was. */
async function rowCounts(): Promise<Record<string, number>> {
  // Both are written beside the response: a write still queued from an earlier case must not land mid-count.
  await flushAuditWrites();
  await flushFailureWrites();
  const { rows } = await app.db.query<{ name: string; n: number }>(
    tables.map((table) => `SELECT '${table}' AS name, count(*)::int AS n FROM "${table}"`).join(' UNION ALL '));
  return Object.fromEntries(rows.map((row) => [row.name, row.n]));
}

const formOf = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function send(route: SweepRoute, placement: Placement, param: string, value: HostileValue) {
  const base = route.base();
  let path = route.path.replace('{param}', placement === 'path' ? value.encoded : encodeURIComponent(route.pathValue ?? 'x'));
  const hostilePair = value.repeated ? `${param}=${value.encoded}&${param}=${value.encoded}` : `${param}=${value.encoded}`;
  const headers: Record<string, string> = { accept: 'application/json', ...route.headers };
  let body: string | Buffer | undefined;
  if (placement === 'query') path += `${path.includes('?') ? '&' : '?'}${[formOf(base), hostilePair].filter(Boolean).join('&')}`;
  if (placement === 'form' || placement === 'basic') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = [formOf(base), placement === 'form' ? hostilePair : ''].filter(Boolean).join('&');
    // RFC 6749 §2.3.1: the form-encoded client_id, then base64.
    if (placement === 'basic') headers.authorization = `Basic ${Buffer.from(`${value.encoded}:secret`).toString('base64')}`;
  }
  if (placement === 'json') {
    headers['content-type'] = 'application/json';
    const fields = Object.entries(base).filter(([name]) => name !== param).map(([name, field]) => `${JSON.stringify(name)}:${JSON.stringify(field)},`);
    body = Buffer.concat([Buffer.from(`{${fields.join('')}${JSON.stringify(param)}:`), value.json, Buffer.from('}')]);
  }
  if (placement === 'path' && route.method !== 'GET' && route.method !== 'DELETE') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = formOf(base);
  }
  const agent = route.agent();
  const request = route.method === 'GET' ? agent.get(path) : route.method === 'POST' ? agent.post(path) : route.method === 'PUT' ? agent.put(path) : agent.delete(path);
  for (const [name, header] of Object.entries(headers)) request.set(name, header);
  // serialize: send the bytes as they are (superagent would JSON-encode a Buffer given a JSON content type).
  return body === undefined ? request : request.serialize((raw: unknown) => raw as string).send(body);
}

const sweepCase = fc.record({
  routeIndex: fc.nat(),
  paramIndex: fc.nat(),
  placementIndex: fc.nat(),
  value: hostileValue,
});

async function check(route: SweepRoute, placement: Placement, param: string, value: HostileValue, countRows = true): Promise<void> {
  const label = `${route.method} ${route.path} ${placement}:${param} = ${value.label.slice(0, 60)}`;
  const mustRefuse = value.unstorable === true || (value.unstorable === 'json' && placement === 'json');
  const before = mustRefuse && countRows ? await rowCounts() : undefined;
  const response = await send(route, placement, param, value);
  expect(response.status, `${label} → ${response.status} ${response.text.slice(0, 200)}`).toBeLessThan(500);
  expect(response.text, label).not.toMatch(LEAK);
  if (mustRefuse) expect(response.status, `${label} must be refused: ${response.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  if (before) expect(await rowCounts(), `${label} wrote a row`).toEqual(before);
}

it('every parameter of every route refuses what the database cannot store, in every placement', async () => {
  // Deterministic coverage first: each (route, parameter, placement) once with an unstorable value.
  const anywhere = fc.sample(hostileValue.filter((value) => value.unstorable === true), { seed: SEED, numRuns: 64 });
  const asJson = fc.sample(hostileValue.filter((value) => value.unstorable === 'json'), { seed: SEED, numRuns: 8 });
  let turn = 0;
  // Every request here must be refused, so no table may change over the whole pass (counted once, for speed).
  const before = await rowCounts();
  for (const route of routes) {
    for (const placement of route.placements) {
      const params = placement === 'path' || placement === 'basic' ? [route.params[0]!] : route.params;
      for (const param of params) {
        turn += 1;
        // In JSON bodies every other value is deep nesting; elsewhere NUL, surrogates, bad UTF-8.
        const value = placement === 'json' && turn % 2 === 0 ? asJson[turn % asJson.length]! : anywhere[turn % anywhere.length]!;
        await check(route, placement, param, value, false);
      }
    }
  }
  expect(await rowCounts(), 'a refused request wrote a row').toEqual(before);
  expect(turn).toBeGreaterThan(150);
}, 600_000);

it(`random hostile values (seed ${SEED}, ${RUNS} runs) never make a 5xx, leak internals or write unstorable data`, async () => {
  console.info(`hostile-input sweep: seed ${SEED}, ${RUNS} runs (SWEEP_SEED / SWEEP_RUNS to change)`);
  await fc.assert(fc.asyncProperty(sweepCase, async ({ routeIndex, paramIndex, placementIndex, value }) => {
    const candidates = value.unstorable === true ? routes : routes.filter((route) => !route.onlyUnstorable);
    const route = candidates[routeIndex % candidates.length]!;
    const placement = route.placements[placementIndex % route.placements.length]!;
    const param = route.params[paramIndex % route.params.length]!;
    await check(route, placement, param, value);
  }), { seed: SEED, numRuns: RUNS, endOnFailure: true });
}, 600_000);

it('spells its hostile values the way the server will see them', () => {
  // The sweep is only as good as its encodings: a lone surrogate must arrive as the bytes ED A0 80.
  expect(percentEncodeUnits('x\uD800')).toBe('x%ED%A0%80');
  expect(percentEncodeUnits('a\u0000')).toBe('a%00');
  expect(percentEncodeUnits('é😀')).toBe('%C3%A9%F0%9F%98%80');
});
