// The OpenTelemetry SDK, loaded only when tracing is configured (tracing.ts imports this file lazily):
// W3C trace context in, spans batched out as OTLP/HTTP JSON, the request id copied onto every span.
import { context, diag, DiagLogLevel, propagation, trace, type Context, type DiagLogFunction } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
  type Sampler, type Span, type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { log } from '../log.ts';
import type { TracingSettings } from './settings.ts';
import { REQUEST_ID, REQUEST_ID_ATTRIBUTE, requestSpans } from './request-spans.ts';
import { querySpans } from './query-spans.ts';
import { providerSpans } from './provider-spans.ts';

export interface TracingRuntime {
  requestSpans(): Koa.Middleware;
  querySpans(db: Db): Db;
  providerSpans(provider: Provider): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

function samplerFor({ sampler, samplerRatio }: TracingSettings): Sampler {
  const ratio = new TraceIdRatioBasedSampler(samplerRatio);
  switch (sampler) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return ratio;
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio });
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Gives every span started inside a request the request id the logs and audit rows carry. */
const requestIdOnEverySpan: SpanProcessor = {
  onStart(span: Span, parentContext: Context) {
    const requestId = parentContext.getValue(REQUEST_ID);
    if (typeof requestId === 'string') span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
  },
  onEnd() {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

// The SDK reports a failed export (collector down, refusing) through its diag logger, silent by default:
// an operator whose traces stop arriving finds why in our log. Its messages describe the export, not spans.
const toLog = (at: 'warn' | 'error'): DiagLogFunction => (message, ...details) =>
  log[at](`tracing: ${message}`, details.length ? { details: details.map((detail) => String(detail)).join(' ').slice(0, 500) } : {});
const exportFailed = (error: unknown) => diagnostics.error('spans could not be exported', error);
const diagnostics = { error: toLog('error'), warn: toLog('warn'), info: () => {}, debug: () => {}, verbose: () => {} };

export function startOtelRuntime(settings: TracingSettings): TracingRuntime {
  diag.setLogger(diagnostics, DiagLogLevel.WARN);
  // Spans follow the request through awaits (AsyncLocalStorage): a query's span finds its request's.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // Headers, timeout and compression come from the exporter's own standard OTEL_EXPORTER_OTLP_* variables.
  const exporter = new OTLPTraceExporter({ url: settings.endpoint });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    sampler: samplerFor(settings),
    spanProcessors: [requestIdOnEverySpan, new BatchSpanProcessor({ exporter })],
  });
  trace.setGlobalTracerProvider(provider);
  const tracer = provider.getTracer('portcullis');
  return {
    requestSpans: () => requestSpans(tracer),
    querySpans: (db) => querySpans(tracer, db),
    providerSpans: (oidcProvider) => providerSpans(tracer, oidcProvider),
    // A flush asked for (shutdown, tests) reports a refused export instead of failing the caller.
    flush: () => provider.forceFlush().catch(exportFailed),
    async shutdown() {
      await provider.shutdown().catch(exportFailed);
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}
