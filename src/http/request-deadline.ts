// Every request is answered within REQUEST_DEADLINE_MS: past it, 503 + Retry-After (through the error
// boundary: a page for people, OAuth JSON for clients) instead of a connection left hanging on a slow database.
import type Koa from 'koa';
import { AppError } from '../errors.ts';
import { log } from '../log.ts';

export class RequestDeadlineExceeded extends AppError {
  constructor(deadlineMs: number) {
    super('temporarily_unavailable', `The service did not answer within ${deadlineMs} ms. Try again shortly.`);
    this.name = 'RequestDeadlineExceeded';
  }
}

/**
 * Goes inside the error boundary. The abandoned handler runs on (statement timeouts end its database
 * work soon after); whatever it does later cannot reach the client, whose answer has been sent.
 */
export function requestDeadline(deadlineMs: number): Koa.Middleware {
  return async (ctx, next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => { timer = setTimeout(() => resolve('expired'), deadlineMs); });
    const work = next();
    try {
      if ((await Promise.race([work, expired])) !== 'expired') return;
    } finally {
      clearTimeout(timer);
    }
    // Its late failure (a cookie set on a sent response) must not become an unhandled rejection.
    work.catch(() => {});
    log.warn('request deadline exceeded', { method: ctx.method, path: ctx.path, requestId: ctx.state.requestId, deadlineMs });
    throw new RequestDeadlineExceeded(deadlineMs);
  };
}
