// Writes failed requests beside the response: a failing request never waits for its diagnosis, and a
// flood of them queues at most MAX_QUEUED (the rest are dropped, with a warning).
import type { Queryable } from '../db/db.ts';
import { WriteBehindQueue } from '../db/write-behind.ts';
import { log } from '../log.ts';
import type { FailedRequest } from './capture.ts';
import { recordFailure } from './store.ts';

const MAX_QUEUED = 1000;

export class FailureRecorder {
  private readonly queue: WriteBehindQueue<FailedRequest>;

  constructor(db: Queryable) {
    // One statement per failure (the per-client cap is part of it); a diagnosis lost to a database
    // error is logged, and never turns the client's 4xx into anything else.
    this.queue = new WriteBehindQueue(async (batch) => {
      for (const failure of batch) {
        try {
          await recordFailure(db, failure);
        } catch (error) {
          log.warn('client failure not recorded', { client_id: failure.clientId, error: String(error) });
        }
      }
    }, { what: 'client failure', maxBatch: 100, maxQueued: MAX_QUEUED });
  }

  record(failure: FailedRequest): void {
    this.queue.enqueue(failure);
  }

  /** Resolves once every failure queued so far is written (tests, shutdown). */
  flush(): Promise<void> {
    return this.queue.flush();
  }
}
