// The token-exchange chains' one service (RFC 8693), under the CLI: checks the operator's input (zod), runs
// each change in one transaction and audits it with its operator, codes its refusals.
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { AppError } from '../errors.ts';
import { requireResource } from '../resources/service.ts';
import { deleteExchangeChain, findExchangeChain, listExchangeChains, upsertExchangeChain, type ExchangeChain } from './store.ts';

export type { ExchangeChain };

const chainInputSchema = z.object({
  from: z.string().min(1).max(2048),
  to: z.string().min(1).max(2048),
  scopes: z.array(z.string().min(1).max(128)).min(1, 'name at least one scope').max(100)
    .refine((scopes) => new Set(scopes).size === scopes.length, 'scopes must be unique'),
});
export type ExchangeChainInput = z.input<typeof chainInputSchema>;

/**
 * Allows resource `from` (an MCP server) to exchange a person's token for one to `to` with at most these
 * scopes, recorded as `exchange.allowed`. Each scope must be one `to` declares and not irreversible: an MCP
 * server acting on someone's behalf downstream never gets what cannot be undone (decision, issue 13 §3).
 * Allowing an existing chain again replaces its scopes.
 */
export async function allowExchange(db: Db, input: ExchangeChainInput, by: Operator): Promise<ExchangeChain> {
  const parsed = chainInputSchema.parse(input);
  const [from, to] = [await requireResource(db, parsed.from), await requireResource(db, parsed.to)];
  if (from.uri === to.uri) throw new AppError('invalid_request', 'a resource exchanges tokens for another resource, not for itself');
  for (const scope of parsed.scopes) {
    const declared = to.scopes.find((s) => s.scope === scope);
    if (!declared) throw new AppError('invalid_request', `${to.uri} declares no scope ${JSON.stringify(scope)}`);
    if (declared.risk === 'irreversible') throw new AppError('invalid_request', `${scope} is irreversible: it is never granted by token exchange`);
  }
  return db.transaction(async (tx) => {
    const before = await findExchangeChain(tx, from.uri, to.uri);
    await upsertExchangeChain(tx, from.uri, to.uri, parsed.scopes);
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'exchange.allowed', resource: to.uri, scopes: parsed.scopes.join(' '),
      details: { from: from.uri, to: to.uri, ...(before ? { scopes_before: before.scopes.join(' ') } : {}) },
    }));
    return (await findExchangeChain(tx, from.uri, to.uri))!;
  });
}

/** Removes the chain `from` → `to`, recorded as `exchange.denied`; not_found when there was none. */
export async function denyExchange(db: Db, input: { from: string; to: string }, by: Operator): Promise<void> {
  const [from, to] = [await requireResource(db, input.from), await requireResource(db, input.to)];
  await db.transaction(async (tx) => {
    if (!(await deleteExchangeChain(tx, from.uri, to.uri))) {
      throw new AppError('not_found', `no exchange from ${from.uri} to ${to.uri} is allowed`);
    }
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'exchange.denied', resource: to.uri, details: { from: from.uri, to: to.uri } }));
  });
}

/** Every allowed chain, or those from one resource. */
export async function listExchanges(db: Db, from?: string): Promise<ExchangeChain[]> {
  return listExchangeChains(db, from === undefined ? undefined : (await requireResource(db, from)).uri);
}
