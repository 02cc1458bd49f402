// OpenTelemetry traces as a collector receives them (src/telemetry/): a token request exported over
// OTLP/HTTP to a real receiver on loopback, continuing the caller's W3C trace, with the request id the
// response names, and nothing secret in the payload (whole processes: tracing-processes.test.ts).
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { setLogDestination } from '../../src/log.ts';
import { trace } from '@opentelemetry/api';
import { flushTracing, startTracing, stopTracing, traceQueries } from '../../src/telemetry/tracing.ts';
import { createNotesTestApp, PASSWORD, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { exchangeCode, obtainCode, REDIRECT_URI, registerClient } from '../helpers/oauth-flow.ts';
import { startOtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';

const NOTES = 'https://mcp.example.com/mcp';
const SERVER = 2;
const CLIENT = 3;

describe('tracing settings (config.ts)', () => {
  it('is off with no endpoint, and off when OTEL_SDK_DISABLED says so', () => {
    expect(loadConfig({ OTEL_SERVICE_NAME: 'auth', OTEL_TRACES_SAMPLER: 'always_on' }).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
  });

  it('appends /v1/traces to the general endpoint and takes the traces endpoint as given', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing)
      .toEqual({ endpoint: 'http://collector:4318/v1/traces', serviceName: 'portcullis', sampler: 'parentbased_always_on', samplerRatio: 1 });
    expect(loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/otlp',
      OTEL_SERVICE_NAME: 'auth-eu', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).tracing).toEqual({ endpoint: 'https://traces.example.com/otlp', serviceName: 'auth-eu', sampler: 'parentbased_traceidratio', samplerRatio: 0.25 });
  });

  it('refuses a malformed endpoint or sampler, naming the variable', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});

describe('traces of a token request', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let app: TestApp;
  let email: string;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    await startTracing({ endpoint: receiver.url, serviceName: 'portcullis-test', sampler: 'parentbased_always_on', samplerRatio: 1 });
    ({ app, email } = await createNotesTestApp(NOTES));
  });
  afterAll(async () => {
    await app?.close();
    await stopTracing();
    await receiver?.close();
  });

  const attribute = (span: ReceivedSpan, key: string) => span.attributes[key];

  it('exports the server span, the provider step and each query, in the caller\'s trace, with the request id', async () => {
    const { client_id: clientId } = await registerClient(app);
    const { code, verifier } = await obtainCode(app, app.browser(), email, { clientId, resource: NOTES, scope: 'notes:read' });
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const token = await app.http().post('/token').type('form').set('traceparent', `00-${traceId}-${callerSpanId}-01`).send(new URLSearchParams({
      grant_type: 'authorization_code', client_id: clientId, code: code!, code_verifier: verifier, redirect_uri: REDIRECT_URI, resource: NOTES,
    }).toString());
    expect(token.status, token.text).toBe(200);
    const requestId = token.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await flushTracing();

    expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);
    const spans = receiver.spans().filter((span) => span.traceId === traceId);
    const server = spans.find((span) => span.kind === SERVER);
    expect(server).toMatchObject({
      name: 'POST token', parentSpanId: callerSpanId,
      attributes: { 'http.request.method': 'POST', 'http.route': 'token', 'http.response.status_code': 200, 'portcullis.request_id': requestId },
    });
    expect(server!.resource['service.name']).toBe('portcullis-test');
    // Only this request's spans are in the caller's trace, and every one carries the request id.
    expect(spans.map((span) => attribute(span, 'portcullis.request_id'))).toEqual(spans.map(() => requestId));

    const step = spans.find((span) => span.name === 'oidc token');
    expect(step).toMatchObject({
      parentSpanId: server!.spanId, statusCode: 0,
      attributes: { 'oidc.route': 'token', 'oauth.grant_type': 'authorization_code', 'oauth.client_id': clientId },
    });
    expect(step!.events.map((event) => event.name)).toContain('grant.success');

    // The code is read inside the provider's step: one client span per statement, named by its operation
    // and table, with oidc-provider's model (the read prefetches code, client and grant at once).
    const queries = spans.filter((span) => span.kind === CLIENT);
    const modelOf = (span: ReceivedSpan) => String(attribute(span, 'portcullis.oidc.model') ?? '').split('+');
    const codeRead = queries.find((span) => modelOf(span).includes('AuthorizationCode') && attribute(span, 'db.operation.name') === 'WITH' && !modelOf(span).includes('RefreshToken'));
    expect(codeRead).toMatchObject({ parentSpanId: step!.spanId, attributes: { 'db.system.name': 'postgresql', 'db.collection.name': 'oidc_models' } });
    // The code's consume, the refresh token and its audit row are one statement, sent once the provider's
    // step has built the response (src/oidc/token-issue-write.ts): outside that step, still in the request.
    const redeemed = queries.filter((span) => modelOf(span).includes('RefreshToken') && modelOf(span).includes('AuthorizationCode'));
    expect(redeemed).toHaveLength(1);
    expect(redeemed[0]).toMatchObject({ name: 'WITH oidc_models', attributes: { 'db.system.name': 'postgresql', 'db.collection.name': 'oidc_models' } });
    expect(redeemed[0]!.parentSpanId).not.toBe(step!.spanId);
    expect(queries.filter((span) => attribute(span, 'db.operation.name') === 'UPDATE')).toEqual([]);
    const ancestors = (span: ReceivedSpan): string[] => {
      const parent = spans.find((candidate) => candidate.spanId === span.parentSpanId);
      return parent ? [parent.spanId, ...ancestors(parent)] : [];
    };
    // Every statement belongs to this request, whichever step sent it.
    for (const query of queries) expect(ancestors(query)).toContain(server!.spanId);

    // Nothing a credential could be read from, anywhere in what was exported, for the whole flow.
    const payload = receiver.bodies.join('\n');
    const secrets = {
      code: code!, verifier, accessToken: token.body.access_token as string, refreshToken: token.body.refresh_token as string,
      password: PASSWORD, email, cookieKey: TEST_SECRETS.cookieKeys[0]!, keySecret: TEST_SECRETS.keyEncryptionSecret,
    };
    for (const [name, value] of Object.entries(secrets)) {
      expect(value, name).toBeTruthy();
      expect(payload.includes(value), `${name} is in the exported spans`).toBe(false);
    }
    // The rest of the flow was traced too (sign-in and consent pages, the authorization endpoint).
    const routes = receiver.spans().filter((span) => span.kind === SERVER).map((span) => String(attribute(span, 'http.route')));
    expect(routes).toEqual(expect.arrayContaining(['registration', 'authorization', 'token']));
    expect(routes.some((route) => route.includes('/interaction/'))).toBe(true);
    expect(payload).not.toMatch(/\/interaction\/[\w-]{10,}/);
  });

  it('marks a refused grant with its OAuth error code, starts a new trace without a traceparent, and never copies an unknown grant_type', async () => {
    const { client_id: clientId } = await registerClient(app);
    const refused = await exchangeCode(app, { client_id: clientId, code: 'not-a-code-'.padEnd(43, 'x'), code_verifier: 'v'.repeat(43) });
    expect(refused.status).toBe(400);
    await flushTracing();
    const spans = receiver.spans().filter((span) => attribute(span, 'portcullis.request_id') === refused.headers['x-request-id']);
    const server = spans.find((span) => span.kind === SERVER);
    expect(server).toMatchObject({ parentSpanId: undefined, statusCode: 0, attributes: { 'http.response.status_code': 400 } });
    const step = spans.find((span) => span.name === 'oidc token');
    expect(step?.statusCode).toBe(2);
    expect(step?.events).toContainEqual({ name: 'grant.error', attributes: { 'error.type': 'invalid_grant' } });
    expect(receiver.bodies.join('\n')).not.toContain('not-a-code-');

    // A token pasted into grant_type by a confused client is named `other`, never copied.
    const misplaced = `eyJ${randomBytes(24).toString('base64url')}`;
    const confused = await app.http().post('/token').type('form').send(new URLSearchParams({ grant_type: misplaced, client_id: clientId }).toString());
    expect(confused.status).toBe(400);
    await flushTracing();
    const confusedStep = receiver.spans().find((span) => span.name === 'oidc token' && attribute(span, 'portcullis.request_id') === confused.headers['x-request-id']);
    expect(confusedStep?.attributes['oauth.grant_type']).toBe('other');
    expect(receiver.bodies.join('\n')).not.toContain(misplaced);
  });

  it('gives a failed statement its SQLSTATE, never the message, and puts a transaction\'s statements under it', async () => {
    const db = traceQueries(app.db);
    const traceId = await trace.getTracer('test').startActiveSpan('a request', async (parent) => {
      await expect(db.query('SELECT 1 / $1::int AS quotient', [0])).rejects.toThrow(/division by zero/);
      await db.transaction(async (tx) => { await tx.query('SELECT count(*) FROM accounts'); });
      parent.end();
      return parent.spanContext().traceId;
    });
    await flushTracing();
    // Outside any span: not traced at all (the purge timer, key refresh). Traced, it would be a root span of
    // its own; a child span an earlier test's request ends late may still arrive and is not this query's.
    const exported = receiver.spans().length;
    await db.query('SELECT 2 AS untraced');
    await flushTracing();
    expect(receiver.spans().slice(exported).filter((span) => span.parentSpanId === undefined)).toEqual([]);
    const spans = receiver.spans().filter((span) => span.traceId === traceId);
    expect(spans.find((span) => span.name === 'SELECT')).toMatchObject({ statusCode: 2, attributes: { 'db.operation.name': 'SELECT', 'error.type': '22012' } });
    const transaction = spans.find((span) => span.name === 'TRANSACTION');
    expect(spans.find((span) => span.name === 'SELECT accounts')?.parentSpanId).toBe(transaction?.spanId);
    const payload = receiver.bodies.join('\n');
    expect(payload).not.toContain('division by zero');
  });

  it('says in the log when the collector refuses an export', async () => {
    let captured = '';
    setLogDestination(new Writable({ write(chunk, _encoding, done) { captured += String(chunk); done(); } }));
    receiver.refuse(400);
    try {
      expect((await app.http().get('/healthz')).status).toBe(200);
      await flushTracing();
      expect(captured).toMatch(/"msg":"tracing: [^"]*"/);
    } finally {
      receiver.refuse(undefined);
      setLogDestination(undefined);
    }
  });
});
