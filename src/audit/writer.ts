// Writes audit events from the token endpoint beside the response, batched: the events of requests
// that finish together go to the database in one INSERT. A process that stops gracefully flushes first.
import type { Db } from '../db/db.ts';
import { recordAuditEvents, type AuditEvent } from './store.ts';
import { log } from '../log.ts';

const MAX_BATCH = 200;

export class AuditWriter {
  private queue: AuditEvent[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly db: Db) {}

  /** Queues an event; it is written within the current turn of the event loop's batch. */
  enqueue(event: AuditEvent): void {
    this.queue.push(event);
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves once every event queued so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await recordAuditEvents(this.db, batch);
        } catch (error) {
          // Nothing is issued while the database is down, so what is lost here is little; say so loudly.
          log.error('audit write failed', { events: batch.length, error: String(error) });
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
