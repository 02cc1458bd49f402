// Writes that run beside the response instead of before it (audit events, clients' failed requests): queued
// in this process, written in batches on the next turn of the event loop, awaited by tests and at shutdown.
import { log } from '../log.ts';

export interface WriteBehindOptions {
  /** What the batch is, for the log line when its write fails. */
  what: string;
  maxBatch: number;
  /** Beyond this many queued items, new ones are dropped (with one warning per drain): a flood costs memory no more. */
  maxQueued?: number;
}

export class WriteBehindQueue<T> {
  private queue: T[] = [];
  private draining: Promise<void> | undefined;
  private dropped = 0;

  constructor(private readonly write: (batch: T[]) => Promise<void>, private readonly options: WriteBehindOptions) {}

  /** Queues an item; it is written within the current turn of the event loop's batch. */
  enqueue(item: T): void {
    if (this.options.maxQueued !== undefined && this.queue.length >= this.options.maxQueued) {
      this.dropped += 1;
      return;
    }
    this.queue.push(item);
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves once every item queued so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        try {
          await this.write(batch);
        } catch (error) {
          log.error(`${this.options.what} write failed`, { items: batch.length, error: String(error) });
        }
      }
      if (this.dropped > 0) log.warn(`${this.options.what} dropped: too many at once`, { dropped: this.dropped });
      this.dropped = 0;
    } finally {
      this.draining = undefined;
    }
  }
}
