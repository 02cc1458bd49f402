// The trusted ID-JAG issuers service, under the CLI: validates (schema.ts), changes the trust list and
// audits it in one transaction naming the operator; the one wire form of an issuer record.
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { idJagIssuerInput, idJagUrl, JWT_BEARER_GRANT, storableId } from './schema.ts';
import {
  addJwtBearerGrantType, allowIrreversibleViaIdJag, deleteIdJagIssuer, denyIrreversibleViaIdJag, findIdJagIssuer, linkSubject,
  listIdJagIssuers, listIrreversibleViaIdJag, upsertIdJagIssuer, type IdJagIssuer,
} from './store.ts';
import { requireResource } from '../resources/service.ts';
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
  const id = storableId(200).parse(clientId);
  await db.transaction(async (tx) => {
    if (!(await addJwtBearerGrantType(tx, id, JWT_BEARER_GRANT))) {
      throw new AppError('client_not_found', `no confidential client ${id} (the jwt-bearer grant needs client authentication)`);
    }
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'client.changed', clientId: id, details: { grant_type_added: JWT_BEARER_GRANT } }));
  });
}

const linkInput = z.object({
  issuer: idJagUrl,
  subject: storableId(255),
  accountId: storableId(200),
});

/** Links an issuer's subject (`iss`+`sub`, unique per the extension) to a local account; audited. */
export async function linkIdJagSubject(db: Db, input: unknown, by: Operator): Promise<void> {
  const checked = linkInput.parse(input);
  await db.transaction(async (tx) => {
    if (!(await findIdJagIssuer(tx, checked.issuer))) throw new AppError('not_found', `no trusted ID-JAG issuer ${checked.issuer}`);
    if (!(await findAccountById(tx, checked.accountId))) throw new AppError('user_not_found', `no account with id ${checked.accountId}`);
    await linkSubject(tx, checked.issuer, checked.subject, checked.accountId);
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'id_jag_subject.linked', accountId: checked.accountId, details: { issuer: checked.issuer, subject: checked.subject },
    }));
  });
}

/**
 * Lets a resource's irreversible scopes through the grant, for when the organisation's IdP is trusted to
 * decide them (issue 13 §1); such a token still lives five minutes at most (irreversible-scopes.ts).
 * Audited as `id_jag_resource.irreversible_allowed` with the scopes it lets through.
 */
export async function allowIrreversibleIdJagScopes(db: Db, resourceUri: string, by: Operator): Promise<{ resourceUri: string; scopes: string[]; changed: boolean }> {
  const resource = await requireResource(db, resourceUri);
  const scopes = resource.scopes.filter((s) => s.risk === 'irreversible').map((s) => s.scope);
  const changed = await db.transaction(async (tx) => {
    const added = await allowIrreversibleViaIdJag(tx, resource.uri);
    if (added) {
      await recordAuditEvent(tx, operatorAuditEvent(by, {
        type: 'id_jag_resource.irreversible_allowed', resource: resource.uri, scopes: scopes.join(' '),
      }));
    }
    return added;
  });
  return { resourceUri: resource.uri, scopes, changed };
}

/** Back to the default: no irreversible scope of this resource through the grant. */
export async function denyIrreversibleIdJagScopes(db: Db, resourceUri: string, by: Operator): Promise<{ resourceUri: string; changed: boolean }> {
  const resource = await requireResource(db, resourceUri);
  const changed = await db.transaction(async (tx) => {
    const removed = await denyIrreversibleViaIdJag(tx, resource.uri);
    if (removed) await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'id_jag_resource.irreversible_denied', resource: resource.uri }));
    return removed;
  });
  return { resourceUri: resource.uri, changed };
}

export const listIrreversibleIdJagResources = (db: Db) => listIrreversibleViaIdJag(db);
