// The one switch for traces: off by default, and then nothing of OpenTelemetry is loaded and every hook
// below hands back what it was given. startTracing() loads the SDK (otel-sdk.ts) only for a configured endpoint.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import type { TracingSettings } from './settings.ts';
import type { TracingRuntime } from './otel-sdk.ts';

// One per process, like the log: OpenTelemetry's context manager and propagator are process-wide.
let runtime: TracingRuntime | undefined;

/**
 * Starts exporting spans when `settings` is set (config.tracing); call before createApp(), which wires
 * its requests, provider and queries to whatever tracing is on when it runs.
 */
export async function startTracing(settings: TracingSettings | undefined): Promise<void> {
  if (!settings || runtime) return;
  const { startOtelRuntime } = await import('./otel-sdk.ts');
  runtime = startOtelRuntime(settings);
}

/** Sends the spans still queued, then stops exporting (shutdown, or the end of a test). */
export async function stopTracing(): Promise<void> {
  const stopping = runtime;
  runtime = undefined;
  await stopping?.shutdown();
}

/** Sends the spans queued so far now, instead of at the next batch. */
export async function flushTracing(): Promise<void> {
  await runtime?.flush();
}

const passThrough: Koa.Middleware = (_ctx, next) => next();

/** One server span per request (after securityHeaders, which names the request id). */
export const traceRequests = (): Koa.Middleware => runtime?.requestSpans() ?? passThrough;

/** The same Db, with one span per statement and per transaction when tracing is on. */
export const traceQueries = (db: Db): Db => runtime?.querySpans(db) ?? db;

/** One span per oidc-provider route a request reaches, with its events (grant.success …) on it. */
export function traceProviderSteps(provider: Provider): void {
  runtime?.providerSpans(provider);
}
