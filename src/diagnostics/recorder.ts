// Writes failed requests beside the response, one after another: a failing request never waits for its
// diagnosis, and a flood of them queues at most MAX_QUEUED writes (the rest are dropped, with a warning).
import type { Queryable } from '../db/db.ts';
import { log } from '../log.ts';
import type { FailedRequest } from './capture.ts';
import { recordFailure } from './store.ts';

const MAX_QUEUED = 1000;

export class FailureRecorder {
  private queue: FailedRequest[] = [];
  private draining: Promise<void> | undefined;
  private dropped = 0;

  constructor(private readonly db: Queryable) {}

  record(failure: FailedRequest): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped += 1;
      return;
    }
    this.queue.push(failure);
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves once every failure queued so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      for (let failure = this.queue.shift(); failure; failure = this.queue.shift()) {
        try {
          await recordFailure(this.db, failure);
        } catch (error) {
          // A diagnosis is a convenience: losing one must never turn the client's 4xx into anything else.
          log.warn('client failure not recorded', { client_id: failure.clientId, error: String(error) });
        }
      }
      if (this.dropped > 0) log.warn('client failures dropped: too many at once', { dropped: this.dropped });
      this.dropped = 0;
    } finally {
      this.draining = undefined;
    }
  }
}
