// What config.ts hands the tracing runtime: where spans go, under which service name, and which traces
// are kept. Plain data, so config.ts needs nothing of OpenTelemetry to describe it.

/** The SDK's standard OTEL_TRACES_SAMPLER values (OpenTelemetry SDK environment variables spec). */
export const TRACE_SAMPLERS = [
  'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio',
] as const;

export interface TracingSettings {
  /** The OTLP/HTTP traces URL (…/v1/traces); spans are POSTed there as JSON. */
  endpoint: string;
  serviceName: string;
  sampler: (typeof TRACE_SAMPLERS)[number];
  /** For the *traceidratio samplers: the share of new traces kept, 0 to 1. */
  samplerRatio: number;
}
