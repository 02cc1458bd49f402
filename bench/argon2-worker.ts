// The password hasher on its own, in its own process: argon2id verifications per second with the
// project's parameters (src/accounts/password.ts), as many in flight as the server would have.
import { performance } from 'node:perf_hooks';
import { hashPassword, verifyPassword } from '../src/accounts/password.ts';
import { serveCommands } from './child-process.ts';
import { RoundRecorder } from './stats.ts';
import { BENCH_PASSWORD } from './fixtures.ts';

const stored = await hashPassword(BENCH_PASSWORD);

serveCommands({ pid: process.pid }, {
  cpu: () => process.cpuUsage(),
  async verify({ concurrency, durationMs }: { concurrency: number; durationMs: number }) {
    const recorder = new RoundRecorder();
    const started = performance.now();
    const deadline = started + durationMs;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        if (await verifyPassword(stored, BENCH_PASSWORD)) recorder.record(performance.now() - t0);
        else recorder.fail(new Error('verification failed'));
      }
    }));
    return recorder.summary(performance.now() - started);
  },
});
