// The trusted ID-JAG issuers service, under the CLI: validates (schema.ts), changes the trust list and
// audits it in one transaction naming the operator; the one wire form of an issuer record.
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { idJagIssuerInput, idJagUrl, JWT_BEARER_GRANT } from './schema.ts';
import { addJwtBearerGrantType, deleteIdJagIssuer, findIdJagIssuer, linkSubject, listIdJagIssuers, upsertIdJagIssuer, type IdJagIssuer } from './store.ts';
import { findAccountById } from '../accounts/store.ts';

export const idJagIssuerJson = (record: IdJagIssuer) => ({
  issuer: record.issuer,
  jwks_uri: record.jwksUri ?? null,
  jwks_keys: record.jwks?.keys.length ?? null,
  created_at: record.createdAt.toISOString(),
});

/** Trusts an issuer (or replaces its key source): a running server sees it at the next exchange. */
export async function addIdJagIssuer(db: Db, input: unknown, by: Operator): Promise<{ record: IdJagIssuer; created: boolean }> {
  const checked = idJagIssuerInput.parse(input);
  return db.transaction(async (tx) => {
    const outcome = await upsertIdJagIssuer(tx, checked.issuer, checked.jwksUri, checked.jwks);
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: outcome.created ? 'id_jag_issuer.added' : 'id_jag_issuer.updated',
      details: { issuer: checked.issuer, jwks_uri: checked.jwksUri ?? null, jwks_keys: checked.jwks?.keys.length ?? null },
    }));
    return outcome;
  });
}

export const listTrustedIdJagIssuers = (db: Db) => listIdJagIssuers(db);

/** Stops trusting an issuer at once; its subject links go with it (ON DELETE CASCADE). */
export async function removeIdJagIssuer(db: Db, issuer: unknown, by: Operator): Promise<void> {
  const checked = idJagUrl.parse(issuer);
  await db.transaction(async (tx) => {
    await deleteIdJagIssuer(tx, checked);
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'id_jag_issuer.removed', details: { issuer: checked } }));
  });
}

/** Lets an operator-registered confidential client exchange ID-JAGs; audited as client.changed. */
export async function allowClientIdJag(db: Db, clientId: unknown, by: Operator): Promise<void> {
  const id = z.string().min(1).max(200).refine((v) => !v.includes('\u0000')).parse(clientId);
  await db.transaction(async (tx) => {
    if (!(await addJwtBearerGrantType(tx, id, JWT_BEARER_GRANT))) {
      throw new AppError('client_not_found', `no confidential client ${id} (the jwt-bearer grant needs client authentication)`);
    }
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'client.changed', clientId: id, details: { grant_type_added: JWT_BEARER_GRANT } }));
  });
}

const linkInput = z.object({
  issuer: idJagUrl,
  subject: z.string().min(1).max(255).refine((v) => !v.includes('\u0000'), 'must not contain NUL bytes'),
  accountId: z.string().min(1).max(200).refine((v) => !v.includes('\u0000'), 'must not contain NUL bytes'),
});

/** Links an issuer's subject (`iss`+`sub`, unique per the extension) to a local account; audited. */
export async function linkIdJagSubject(db: Db, input: unknown, by: Operator): Promise<void> {
  const checked = linkInput.parse(input);
  await db.transaction(async (tx) => {
    if (!(await findIdJagIssuer(tx, checked.issuer))) throw new AppError('not_found', `no trusted ID-JAG issuer ${checked.issuer}`);
    if (!(await findAccountById(tx, checked.accountId))) throw new AppError('user_not_found', `no account with id ${checked.accountId}`);
    await linkSubject(tx, checked.issuer, checked.subject, checked.accountId);
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'id_jag_issuer.updated', accountId: checked.accountId, details: { issuer: checked.issuer, subject_linked: checked.subject },
    }));
  });
}
