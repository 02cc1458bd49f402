// Writes audit events from the token endpoint beside the response, batched: the events of requests
// that finish together go to the database in one INSERT. A process that stops gracefully flushes first.
import type { Db } from '../db/db.ts';
import { WriteBehindQueue } from '../db/write-behind.ts';
import { recordAuditEvents, type AuditEvent } from './store.ts';

const MAX_BATCH = 200;

export class AuditWriter {
  // Nothing is issued while the database is down, so what a failed write loses is little; it is logged loudly.
  private readonly queue: WriteBehindQueue<AuditEvent>;

  constructor(db: Db) {
    this.queue = new WriteBehindQueue((batch) => recordAuditEvents(db, batch), { what: 'audit', maxBatch: MAX_BATCH });
  }

  /** Queues an event; it is written within the current turn of the event loop's batch. */
  enqueue(event: AuditEvent): void {
    this.queue.enqueue(event);
  }

  /** Resolves once every event queued so far is written (tests, shutdown). */
  flush(): Promise<void> {
    return this.queue.flush();
  }
}
