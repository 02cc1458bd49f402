// The identity providers service, under the CLI and the console: validates a configuration (zod, presets),
// seals the client secret, writes the provider, its domains and the audit event naming the operator in one
// transaction, and owns the one wire form of a provider (which never carries the secret, sealed or not).
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { AppError } from '../errors.ts';
import { applyPreset, DEFAULT_SCOPES, type Preset } from './presets.ts';
import { addProviderInput, providerName, updateProviderInput } from './schema.ts';
import { sealClientSecret } from './secret.ts';
import { endGrants, endSessionsOfAccount } from '../grants/store.ts';
import { listAccountIdsOfProvider } from './sign-in-store.ts';
import {
  claimedDomains, deleteProvider, findProviderByName, insertProvider, listProviders, replaceDomains, updateProviderRow,
  type IdentityProvider, type ProviderRow,
} from './store.ts';

export interface FederationDeps { db: Db; keyEncryptionSecret: string; /** Our issuer: the callback URL hangs under it. */ issuer: string }

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Where the provider sends people back: registered at the provider as the redirect URI. */
export const callbackUrl = (issuer: string) => `${issuer.replace(/\/+$/, '')}/federation/callback`;

export const providerJson = (p: IdentityProvider, issuer: string) => ({
  id: p.id, name: p.name, display_name: p.displayName, kind: p.kind, preset: p.preset, issuer: p.issuer, tenant: p.tenant,
  client_id: p.clientId, scopes: p.scopes, email_claim: p.emailClaim, groups_claim: p.groupsClaim,
  create_accounts: p.createAccounts, sso_only: p.ssoOnly, id_jag: p.idJag, domains: p.domains,
  status: p.disabledAt ? 'disabled' : 'active', disabled_at: iso(p.disabledAt), created_at: iso(p.createdAt),
  updated_at: iso(p.updatedAt), callback_url: callbackUrl(issuer),
});

interface Resolved { kind: 'oidc' | 'github'; issuer: string | null; defaultScopes: string[] }

function resolveEndpoint(preset: Preset | undefined, issuer: string | undefined, tenant: string | undefined): Resolved {
  if (preset === undefined) {
    if (issuer === undefined) throw new AppError('invalid_request', 'give --issuer URL or --preset google|entra|okta|github');
    if (tenant !== undefined) throw new AppError('invalid_request', '--tenant belongs to the entra preset');
    return { kind: 'oidc', issuer, defaultScopes: DEFAULT_SCOPES };
  }
  if (issuer !== undefined && preset !== 'okta') throw new AppError('invalid_request', `--issuer is fixed by the ${preset} preset; leave it out`);
  if (tenant !== undefined && preset !== 'entra') throw new AppError('invalid_request', '--tenant belongs to the entra preset');
  const outcome = applyPreset({ preset, issuer, tenant });
  if (!outcome.ok) throw new AppError('invalid_request', `--${outcome.field}: ${outcome.message}`);
  return outcome;
}

// Two operators adding at once both pass the checks above; the database's unique keys then decide, and the
// loser gets the same coded error as if it had come second (SQLSTATE 23505, unique_violation).
function asConflict(error: unknown, name: string): never {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code === '23505') {
    if (constraint === 'identity_providers_name_key') throw new AppError('identity_provider_exists', `an identity provider named ${name} exists`);
    throw new AppError('domain_claimed', 'one of these domains was claimed by another identity provider a moment ago');
  }
  throw error;
}

async function checkDomainsFree(tx: Queryable, domains: string[], providerId: string): Promise<void> {
  const taken = await claimedDomains(tx, domains, providerId);
  if (taken.length > 0) {
    throw new AppError('domain_claimed', taken.map((t) => `${t.domain} already belongs to identity provider ${t.name}`).join('; '));
  }
}

export async function addIdentityProvider(deps: FederationDeps, input: unknown, by: Operator): Promise<IdentityProvider> {
  const checked = addProviderInput.parse(input);
  const endpoint = resolveEndpoint(checked.preset, checked.issuer, checked.tenant);
  const domains = [...new Set(checked.domains)];
  const row: ProviderRow = {
    id: randomUUID(), name: checked.name, displayName: checked.displayName ?? checked.name, kind: endpoint.kind,
    preset: checked.preset ?? null, issuer: endpoint.issuer, tenant: checked.tenant ?? null, clientId: checked.clientId,
    clientSecretJwe: await sealClientSecret(checked.clientSecret, deps.keyEncryptionSecret),
    scopes: checked.scopes && checked.scopes.length > 0 ? [...new Set(checked.scopes)] : endpoint.defaultScopes,
    emailClaim: checked.emailClaim ?? 'email', groupsClaim: checked.groupsClaim ?? null,
    createAccounts: checked.createAccounts, ssoOnly: checked.ssoOnly, idJag: checked.idJag,
  };
  return deps.db.transaction(async (tx) => {
    if (await findProviderByName(tx, row.name)) throw new AppError('identity_provider_exists', `an identity provider named ${row.name} exists`);
    await checkDomainsFree(tx, domains, row.id);
    await insertProvider(tx, row).catch((error: unknown) => asConflict(error, row.name));
    await replaceDomains(tx, row.id, domains).catch((error: unknown) => asConflict(error, row.name));
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'identity_provider.added',
      details: { provider_id: row.id, name: row.name, kind: row.kind, preset: row.preset, issuer: row.issuer, domains },
    }));
    const stored = await findProviderByName(tx, row.name);
    if (!stored) throw new Error('the identity provider vanished inside its own transaction');
    return stored;
  });
}

async function mustFind(db: Queryable, name: unknown): Promise<IdentityProvider> {
  const checked = providerName.parse(name);
  const found = await findProviderByName(db, checked);
  if (!found) throw new AppError('identity_provider_not_found', `no identity provider named ${checked}`);
  return found;
}

/**
 * Changes a provider. Disabling it stops sign-in with it at once (start and callback both check); with
 * `endSessions` its people (accounts with an identity at it) are also signed out everywhere, and with
 * `endGrants` every grant they gave ends too (their applications' refresh tokens stop working).
 */
export async function updateIdentityProvider(deps: FederationDeps, input: unknown, by: Operator): Promise<IdentityProvider> {
  const checked = updateProviderInput.parse(input);
  if ((checked.endSessions || checked.endGrants) && checked.disabled !== true) {
    throw new AppError('invalid_request', '--end-sessions and --end-grants go with --disable');
  }
  return deps.db.transaction(async (tx) => {
    const current = await mustFind(tx, checked.name);
    const presetChanged = checked.preset !== undefined || checked.issuer !== undefined || checked.tenant !== undefined;
    const preset = (checked.preset ?? current.preset ?? undefined) as Preset | undefined;
    // A changed endpoint is resolved afresh from the preset plus what is given; else the stored one stands.
    const endpoint = presetChanged
      ? resolveEndpoint(preset, checked.issuer ?? (preset === undefined || preset === 'okta' ? current.issuer ?? undefined : undefined),
        checked.tenant ?? (preset === 'entra' ? current.tenant ?? undefined : undefined))
      : { kind: current.kind, issuer: current.issuer, defaultScopes: current.scopes };
    const row: ProviderRow = {
      ...current, displayName: checked.displayName ?? current.displayName, kind: endpoint.kind, preset: preset ?? null,
      issuer: endpoint.issuer, tenant: preset === 'entra' ? checked.tenant ?? current.tenant : null,
      clientId: checked.clientId ?? current.clientId,
      clientSecretJwe: checked.clientSecret === undefined ? current.clientSecretJwe : await sealClientSecret(checked.clientSecret, deps.keyEncryptionSecret),
      scopes: checked.scopes && checked.scopes.length > 0 ? [...new Set(checked.scopes)]
        : endpoint.kind !== current.kind ? endpoint.defaultScopes : current.scopes,
      emailClaim: checked.emailClaim ?? current.emailClaim, groupsClaim: checked.groupsClaim ?? current.groupsClaim,
      createAccounts: checked.createAccounts ?? current.createAccounts, ssoOnly: checked.ssoOnly ?? current.ssoOnly,
      idJag: checked.idJag ?? current.idJag,
    };
    const disabled = checked.disabled ?? current.disabledAt !== null;
    await updateProviderRow(tx, row, disabled);
    if (checked.domains !== undefined) {
      const domains = [...new Set(checked.domains)];
      await checkDomainsFree(tx, domains, row.id);
      await replaceDomains(tx, row.id, domains).catch((error: unknown) => asConflict(error, row.name));
    }
    const changed = Object.keys(checked).filter((key) => !['name', 'endSessions', 'endGrants'].includes(key) && (checked as Record<string, unknown>)[key] !== undefined)
      .map((key) => (key === 'clientSecret' ? 'client_secret' : key));
    const ended = checked.endSessions || checked.endGrants ? await endPeoplesAccess(tx, row.id, checked.endGrants === true) : undefined;
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'identity_provider.updated', details: { provider_id: row.id, name: row.name, changed, ...ended },
    }));
    return mustFind(tx, row.name);
  });
}

/** Signs out everywhere each account with an identity at the provider, and with `grants` ends every grant they gave. */
async function endPeoplesAccess(tx: Queryable, providerId: string, grants: boolean) {
  let sessionsEnded = 0;
  let grantsEnded = 0;
  for (const accountId of await listAccountIdsOfProvider(tx, providerId)) {
    sessionsEnded += await endSessionsOfAccount(tx, accountId);
    if (grants) grantsEnded += await endGrants(tx, { accountId });
  }
  return { sessions_ended: sessionsEnded, ...(grants ? { grants_ended: grantsEnded } : {}) };
}

export async function removeIdentityProvider(deps: FederationDeps, name: unknown, by: Operator): Promise<IdentityProvider> {
  return deps.db.transaction(async (tx) => {
    const current = await mustFind(tx, name);
    await deleteProvider(tx, current.id);
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'identity_provider.removed', details: { provider_id: current.id, name: current.name },
    }));
    return current;
  });
}

export const showIdentityProvider = (db: Db, name: unknown) => mustFind(db, name);
export const listIdentityProviders = (db: Db) => listProviders(db);
