// What a person sees of token exchange and can undo (issue 13 §3): the downstream services a resource
// calls for them (consent page), those of each grant (portal), and withdrawing one from a grant (audited).
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import { findGrantForAccount } from '../grants/store.ts';
import type { ResourceScope } from '../resources/schema.ts';
import { findResourceByUri } from '../resources/store.ts';
import { withdrawalInput } from './schema.ts';
import {
  endExchangedGrants, insertExchangeWithdrawal, listClientIdsBoundTo, listExchangeChains, listExchangeWithdrawals, listGrantResourceUris,
} from './store.ts';

/** A downstream service: resource `from` may call `to` for the person with at most `scopes`. */
export interface DownstreamService {
  from: string;
  to: string;
  name: string;
  scopes: ResourceScope[];
  /** The person withdrew it from this grant (portal only). */
  withdrawn: boolean;
}

/** The downstream services resource `fromUri` will call on the person's behalf, from the operator's chains. */
export async function downstreamServicesOf(db: Db, fromUri: string): Promise<DownstreamService[]> {
  const chains = await listExchangeChains(db, fromUri);
  const services: DownstreamService[] = [];
  for (const chain of chains) {
    const to = await findResourceByUri(db, chain.toUri);
    if (!to || to.disabled) continue;
    const scopes = to.scopes.filter((s) => chain.scopes.includes(s.scope) && s.risk !== 'irreversible');
    services.push({ from: chain.fromUri, to: to.uri, name: to.name, scopes, withdrawn: false });
  }
  return services;
}

/** Per grant: the downstream services of the resources it covers, each marked withdrawn or not. */
export async function downstreamServicesOfGrants(
  db: Db, grants: ReadonlyArray<{ grantId: string; resources: ReadonlyArray<{ uri: string }> }>,
): Promise<Map<string, DownstreamService[]>> {
  const withdrawals = await listExchangeWithdrawals(db, grants.map((g) => g.grantId));
  const byResource = new Map<string, DownstreamService[]>();
  const result = new Map<string, DownstreamService[]>();
  for (const grant of grants) {
    const services: DownstreamService[] = [];
    for (const { uri } of grant.resources) {
      if (!byResource.has(uri)) byResource.set(uri, await downstreamServicesOf(db, uri));
      for (const service of byResource.get(uri)!) {
        const withdrawn = withdrawals.some((w) => w.grantId === grant.grantId && w.fromUri === service.from && w.toUri === service.to);
        services.push({ ...service, withdrawn });
      }
    }
    if (services.length > 0) result.set(grant.grantId, services);
  }
  return result;
}

export interface WithdrawalFacts { ip?: string | undefined; userAgent?: string | undefined; requestId?: string | undefined }

/**
 * The person withdraws downstream service `to` (called by `from`) from one of their grants: no further
 * exchange for it, and the tokens already exchanged under that grant for it end now. Audited as
 * `exchange.withdrawn` with the person as actor; not_found for a grant or chain that is not theirs.
 */
export async function withdrawDownstreamService(db: Db, accountId: string, input: unknown, facts: WithdrawalFacts = {}): Promise<void> {
  const parsed = withdrawalInput.parse(input);
  const grant = await findGrantForAccount(db, parsed.grant_id, accountId);
  const services = grant ? (await downstreamServicesOfGrants(db, [{ grantId: grant.grantId, resources: await listGrantResourceUris(db, grant.grantId) }])).get(grant.grantId) : undefined;
  const service = services?.find((s) => s.from === parsed.from && s.to === parsed.to);
  if (!grant || !service) throw new AppError('not_found', 'no such downstream service on your grants');
  await db.transaction(async (tx) => {
    if (!(await insertExchangeWithdrawal(tx, { grantId: grant.grantId, fromUri: service.from, toUri: service.to, accountId }))) return;
    const ended = await endExchangedGrants(tx, grant.grantId, await listClientIdsBoundTo(tx, service.from), service.to);
    await recordAuditEvent(tx, {
      type: 'exchange.withdrawn', actor: { type: 'user', id: accountId }, accountId, clientId: grant.clientId, resource: service.to, ...facts,
      details: { grant_id: grant.grantId, from: service.from, to: service.to, exchanged_grants_ended: ended },
    });
  });
}
