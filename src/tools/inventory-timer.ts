// The periodic inventory (issue 14 §1): every TOOL_INVENTORY_INTERVAL_SECONDS the server lists each enabled
// resource's tools again, one after another, so drift is found even when no operator asks. Started by main.ts.
import { log } from '../log.ts';
import { refreshToolCatalog, type ToolServiceDeps } from './service.ts';
import { listResourceUris } from './store.ts';

/** One pass over every enabled resource; a failure is recorded per resource and never stops the pass. */
export async function refreshEveryCatalog(deps: ToolServiceDeps): Promise<void> {
  for (const uri of await listResourceUris(deps.db)) {
    try {
      await refreshToolCatalog(deps, uri, 'system');
    } catch (error) {
      log.warn('tool inventory failed', { resource: uri, error: String(error) });
    }
  }
}

/** Starts the timer (none when the interval is 0); returns its stop. */
export function startToolInventoryTimer(deps: ToolServiceDeps, intervalSeconds: number): () => void {
  if (intervalSeconds === 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    // One pass at a time: a slow server never stacks passes up.
    if (running) return;
    running = true;
    refreshEveryCatalog(deps).catch((error: unknown) => log.warn('tool inventory pass failed', { error: String(error) }))
      .finally(() => { running = false; });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
