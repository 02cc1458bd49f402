// The admin API tokens service, under the CLI: creates (the token shown once; only its SHA-256 digest is
// stored), lists and revokes tokens, each change and its audit event in one transaction naming the operator,
// and the one wire form of a token record (never the token itself after creation).
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { createAdminApiToken, listAdminApiTokens, revokeAdminApiToken, type AdminApiToken } from './store.ts';

export const adminTokenName = z.string().trim().min(1, 'give the token a name that says who or what uses it').max(100);

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

export const adminTokenJson = (token: AdminApiToken) => ({
  id: token.id, name: token.name, status: token.revokedAt ? 'revoked' : 'active', created_at: iso(token.createdAt),
  last_used_at: iso(token.lastUsedAt), revoked_at: iso(token.revokedAt),
});

/** A new token: the secret itself (shown once, never stored) and its record. */
export async function createAdminToken(db: Db, name: unknown, by: Operator): Promise<{ token: string; record: AdminApiToken }> {
  const checkedName = adminTokenName.parse(name);
  return db.transaction(async (tx) => {
    const created = await createAdminApiToken(tx, checkedName);
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'admin_token.created', details: { token_id: created.record.id, name: created.record.name },
    }));
    return created;
  });
}

export const listAdminTokens = (db: Db) => listAdminApiTokens(db);

/** Revokes a token at once; `changed` false when it was revoked already (then nothing is audited). */
export async function revokeAdminToken(db: Db, id: string, by: Operator): Promise<{ changed: boolean }> {
  return db.transaction(async (tx) => {
    const outcome = await revokeAdminApiToken(tx, id);
    if (outcome.changed) await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'admin_token.revoked', details: { token_id: id } }));
    return outcome;
  });
}
