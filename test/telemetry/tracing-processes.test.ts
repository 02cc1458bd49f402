// Tracing as whole processes see it: the server (main.ts) starts it from its environment and sends the
// queued spans when it stops; with nothing configured (or OTEL_SDK_DISABLED) no OpenTelemetry module loads.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { freePort } from '../helpers/free-port.ts';
import { startOtlpReceiver } from './otlp-receiver.ts';

const SERVER = 2;
/** This process's environment without any OTEL_* setting of the machine's, for the processes started here. */
const otelFree = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));

// A process of its own (test/telemetry/tracing-child.ts): which modules a process loads can only be seen from
// its start, before anything imported the SDK.
function runChild(env: Record<string, string>): Promise<{ exit: number | null; output: string }> {
  const child = spawn(process.execPath, [join(process.cwd(), 'node_modules/tsx/dist/cli.mjs'), 'test/telemetry/tracing-child.ts'], {
    env: { ...otelFree(), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  return new Promise((resolve) => child.on('exit', (exit) => resolve({ exit, output })));
}

const report = (output: string) => JSON.parse(output.trim().split('\n').at(-1)!) as { otelModules: string[]; tokenStatus: number };

// Processes of their own, started side by side (each spends most of its time starting).
describe.concurrent('in processes of their own', () => {
  it('the server (main.ts) starts tracing from the environment and sends the spans still queued when it stops', async ({ expect }) => {
    const receiver = await startOtlpReceiver();
    const port = await freePort();
    const child = spawn(process.execPath, [join(process.cwd(), 'node_modules/tsx/dist/cli.mjs'), 'src/main.ts'], {
      env: {
        ...otelFree(), DATABASE_URL: '', DATA_DIR: mkdtempSync(join(tmpdir(), 'portcullis-tracing-')), PORT: String(port), LOG_LEVEL: 'warn',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace(/\/v1\/traces$/, ''), OTEL_SERVICE_NAME: 'portcullis-main',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let status = 0;
      for (let tries = 0; tries < 300 && status !== 200; tries += 1) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.status, () => 0);
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status, output).toBe(200);
      // Nothing exported yet: the batch waits, and the process is stopped before it would send.
      expect(receiver.bodies).toEqual([]);
      child.kill('SIGTERM');
      expect(await exited, output).toBe(0);
      const health = receiver.spans().find((span) => span.name === 'GET /healthz');
      expect(health).toMatchObject({ kind: SERVER, attributes: { 'http.route': '/healthz', 'http.response.status_code': 200 } });
      expect(health!.resource['service.name']).toBe('portcullis-main');
    } finally {
      child.kill('SIGKILL');
      await receiver.close();
    }
  }, 120_000);

  it('with nothing configured, loads no OpenTelemetry module and sends nothing, where a configured process loads the SDK and sends', async ({ expect }) => {
    const receiver = await startOtlpReceiver();
    try {
      const [configured, unconfigured, disabled] = await Promise.all([
        runChild({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'configured' }),
        // Settings beside the endpoint alone do not turn tracing on.
        runChild({ OTEL_SERVICE_NAME: 'unconfigured', OTEL_TRACES_SAMPLER: 'always_on' }),
        // The standard off switch wins over an endpoint: this one would reach the receiver.
        runChild({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'disabled', OTEL_SDK_DISABLED: 'true' }),
      ]);
      // The check can see the SDK: the configured process loads it and its spans arrive.
      expect(configured.exit, configured.output).toBe(0);
      expect(report(configured.output).otelModules).toEqual(expect.arrayContaining(['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http']));
      expect(receiver.spans().some((span) => span.name === 'POST token' && span.resource['service.name'] === 'configured')).toBe(true);

      for (const child of [unconfigured, disabled]) {
        expect(child.exit, child.output).toBe(0);
        expect(report(child.output)).toEqual({ otelModules: [], tokenStatus: 401 });
      }
      expect(receiver.spans().filter((span) => span.resource['service.name'] !== 'configured')).toEqual([]);
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
