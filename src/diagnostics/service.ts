// The client diagnosis's one service, under the console, the admin API and `client diagnose`: checks the
// client id, reads its recent failed requests, explains each against what is registered now, and owns the wire form.
import { z } from 'zod';
import type { Queryable } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { listClientOverview, type ClientOverview } from '../clients/overview.ts';
import { listResources } from '../resources/store.ts';
import { explainFailure, type Explanation } from './explain.ts';
import { listFailuresOfClient, MAX_FAILURES_PER_CLIENT, type StoredFailure } from './store.ts';

export const diagnoseClientInput = z.strictObject({ clientId: z.string().trim().min(1, 'a client id is required').max(2048) });

export interface DiagnosedFailure extends StoredFailure {
  explanation: Explanation;
}

export interface ClientDiagnosis {
  client: Pick<ClientOverview, 'clientId' | 'name' | 'status' | 'source' | 'redirectUris'>;
  failures: DiagnosedFailure[];
  /** How many distinct failures are kept per client (the oldest go first). */
  kept: number;
}

/** A client's recent failed requests, most recent first, each with its usual cause. Unknown client: client_not_found. */
export async function diagnoseClient(db: Queryable, input: unknown): Promise<ClientDiagnosis> {
  const { clientId } = diagnoseClientInput.parse(input);
  const client = (await listClientOverview(db)).find((candidate) => candidate.clientId === clientId);
  if (!client) throw new AppError('client_not_found', `client ${JSON.stringify(clientId.slice(0, 200))} is not registered`);
  const [resources, failures] = await Promise.all([listResources(db), listFailuresOfClient(db, clientId)]);
  const facts = {
    redirectUris: client.redirectUris,
    resources: resources.map((r) => ({ uri: r.uri, scopes: r.scopes.map((s) => s.scope), disabled: r.disabled })),
  };
  return {
    client: { clientId, name: client.name, status: client.status, source: client.source, redirectUris: client.redirectUris },
    failures: failures.map((failure) => ({ ...failure, explanation: explainFailure(failure, facts) })),
    kept: MAX_FAILURES_PER_CLIENT,
  };
}

/** A diagnosis's one wire form, for `client diagnose --json` and the admin API: snake_case, ISO dates, null for none. */
export const clientDiagnosisJson = (diagnosis: ClientDiagnosis) => ({
  client: {
    client_id: diagnosis.client.clientId, client_name: diagnosis.client.name ?? null, status: diagnosis.client.status,
    source: diagnosis.client.source, redirect_uris: diagnosis.client.redirectUris,
  },
  failures: diagnosis.failures.map((failure) => ({
    endpoint: failure.endpoint,
    first_at: failure.firstAt.toISOString(),
    last_at: failure.lastAt.toISOString(),
    occurrences: failure.occurrences,
    request: failure.request,
    error: failure.error,
    error_description: failure.errorDescription ?? null,
    error_detail: failure.errorDetail ?? null,
    cause: failure.explanation.cause,
    explanation: failure.explanation.summary,
    fix: failure.explanation.fix,
  })),
  kept_per_client: diagnosis.kept,
});
export type ClientDiagnosisJson = ReturnType<typeof clientDiagnosisJson>;
