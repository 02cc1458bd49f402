// Records each known client's failed authorization and token requests for the operator's diagnosis
// (src/diagnostics/), from oidc-provider's documented `authorization.error` and `grant.error` events.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { captureError, captureRequest, type FailureEndpoint } from '../diagnostics/capture.ts';
import { FailureRecorder } from '../diagnostics/recorder.ts';

const recorders = new Set<FailureRecorder>();

/** Failures are written beside the response; tests and shutdown wait for them here. */
export async function flushFailureWrites(): Promise<void> {
  await Promise.all([...recorders].map((recorder) => recorder.flush()));
}

type ProviderError = { error?: unknown; error_description?: unknown; error_detail?: unknown };

export function subscribeFailureEvents(provider: Provider, db: Db): void {
  const recorder = new FailureRecorder(db);
  recorders.add(recorder);

  const record = (endpoint: FailureEndpoint) => (ctx: KoaContextWithOIDC, error: ProviderError) => {
    // Only a client this server knows (found, and for /token found before its authentication failed):
    // a request naming no client, or an unknown one, has no one to diagnose, and must not cost a row.
    const clientId = ctx.oidc?.client?.clientId;
    if (!clientId) return;
    const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
    const basicAuth = /^basic\s/i.test(ctx.get('authorization'));
    recorder.record({ clientId, endpoint, ...captureError(error), request: captureRequest(endpoint, params, basicAuth) });
  };

  provider.on('authorization.error', record('authorization'));
  provider.on('grant.error', record('token'));
}
