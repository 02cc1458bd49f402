// A real OTLP/HTTP traces receiver on loopback for tests: it accepts what the exporter POSTs to
// /v1/traces (JSON, gzip or not) and keeps every body as received, and the spans in it.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
interface KeyValue { key: string; value: AnyValue }
interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  attributes?: KeyValue[]; events?: Array<{ name: string; attributes?: KeyValue[] }>; status?: { code?: number; message?: string };
}
interface TracesRequest { resourceSpans: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> }

/** A span as the tests read it: attributes as a plain object. */
export interface ReceivedSpan {
  traceId: string; spanId: string; parentSpanId: string | undefined; name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  events: Array<{ name: string; attributes: Record<string, string | number | boolean> }>;
  statusCode: number;
  resource: Record<string, string | number | boolean>;
}

const plain = (values: KeyValue[] | undefined) => Object.fromEntries((values ?? []).map(({ key, value }) =>
  [key, value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue)]));

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

export async function startOtlpReceiver() {
  const bodies: string[] = [];
  const contentTypes: string[] = [];
  let refusal: number | undefined;
  const server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    if (request.method !== 'POST' || request.url !== '/v1/traces') return void response.writeHead(404).end();
    if (refusal) return void response.writeHead(refusal, { 'content-type': 'application/json' }).end('{"code":3,"message":"refused"}');
    bodies.push(body);
    contentTypes.push(String(request.headers['content-type']));
    // An empty ExportTraceServiceResponse: everything accepted.
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    bodies,
    contentTypes,
    /** Answers every later export with this status (undefined: accept again), as a collector refusing. */
    refuse(status: number | undefined) { refusal = status; },
    spans(): ReceivedSpan[] {
      return bodies.flatMap((body) => (JSON.parse(body) as TracesRequest).resourceSpans.flatMap((resourceSpans) =>
        resourceSpans.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({
          traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, name: span.name, kind: span.kind,
          attributes: plain(span.attributes), statusCode: span.status?.code ?? 0, resource: plain(resourceSpans.resource?.attributes),
          events: (span.events ?? []).map((event) => ({ name: event.name, attributes: plain(event.attributes) })),
        })))));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
