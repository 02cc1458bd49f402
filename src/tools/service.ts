// Tool governance's one service (issue 14 §1-4), under the CLI, the console, the kit's endpoint and the timer:
// the inventory (tools/list with our own token), drift found against the pins, approvals and the drift policy.
// It validates, runs each change with its audit event in one transaction, and throws coded errors.
import { toolDefinitionOf, toolDigest } from '@portcullis/resource-server';
import { z } from 'zod';
import type { Db, Queryable } from '../db/db.ts';
import type { AuditEvent } from '../audit/event.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { AppError } from '../errors.ts';
import { requireResource } from '../resources/service.ts';
import type { Resource } from '../resources/schema.ts';
import { toolDiff, wholeToolDiff } from './diff.ts';
import { buildCatalog, findingsOf, type CatalogTool } from './catalog.ts';
import { issueInventoryToken, NoSigningKeyError, type InventoryToken } from './inventory-token.ts';
import { listServerTools, ToolListingError } from './list-tools.ts';
import { flagRaisedScopes, type RaisedScope } from './reconsent.ts';
import {
  countOpenDriftByResource, deleteApproval, findToolSettings, insertDrift, listApprovedTools, listListedTools, listOpenDrift, replaceListedTools,
  resolveDrift, saveApproval, saveDriftPolicy, saveRefreshOutcome, type DriftKind, type DriftPolicy, type StoredTool, type ToolSettings,
} from './store.ts';

export type { CatalogTool, DriftPolicy };

/** What the service needs: the database, our issuer and signing-key secret (the inventory token), the fetch limits. */
export interface ToolServiceDeps {
  db: Db;
  issuer: string;
  keyEncryptionSecret: string;
  /** CIMD_ALLOW_LOOPBACK: whether a loopback MCP server may be listed (development). */
  allowLoopback: boolean;
  timeoutMs: number;
  maxBytes: number;
}

export const toolServiceDeps = (db: Db, config: { issuer: string; cimd: { allowLoopback: boolean }; tools: { timeoutMs: number; maxBytes: number } },
  keyEncryptionSecret: string): ToolServiceDeps => ({
  db, issuer: config.issuer, keyEncryptionSecret, allowLoopback: config.cimd.allowLoopback, timeoutMs: config.tools.timeoutMs, maxBytes: config.tools.maxBytes,
});

/** A resource's catalog with its drift policy and how the last inventory went. */
export interface ToolCatalog { resource: Resource; settings: ToolSettings; tools: CatalogTool[] }

export async function getToolCatalog(db: Db, uri: string): Promise<ToolCatalog> {
  const resource = await requireResource(db, uri);
  const [settings, listed, approved, drift] = await Promise.all([
    findToolSettings(db, resource.uri), listListedTools(db, resource.uri), listApprovedTools(db, resource.uri), listOpenDrift(db, resource.uri)]);
  return { resource, settings, tools: buildCatalog(listed, approved, drift, resource.scopes, resource.uri) };
}

/** The catalog after an approval, and each scope whose level it raised (their grants now ask the person again). */
export interface ApprovedCatalog extends ToolCatalog { raised: RaisedScope[] }

/** A refresh: the catalog after it, and the error when the server could not be listed (the catalog stays as it was). */
export interface RefreshOutcome { catalog: ToolCatalog; error: string | undefined; drifted: string[] }

const MAX_TOOLS = 500;

// The tools as listed: each named entry once (the first wins), its definition and digest.
function storedTools(listed: readonly unknown[]): StoredTool[] {
  const byName = new Map<string, StoredTool>();
  for (const entry of listed) {
    const definition = toolDefinitionOf(entry);
    if (definition && !byName.has(definition.name) && byName.size < MAX_TOOLS) byName.set(definition.name, { name: definition.name, definition, digest: toolDigest(definition) });
  }
  return [...byName.values()];
}

/**
 * Lists the resource's tools now (tools/list, our own token) and records them (recordListing). Never throws for
 * a server that is down or answers badly: the failure is kept (`last_refresh_error`), audited as `tools.list_failed`.
 */
export async function refreshToolCatalog(deps: ToolServiceDeps, uri: string, by: Operator | 'system'): Promise<RefreshOutcome> {
  const resource = await requireResource(deps.db, uri);
  const actor = by === 'system' ? { type: 'system' as const } : undefined;
  const audit: AuditOf = (event) => (by === 'system' ? { ...event, actor } : operatorAuditEvent(by, event));
  let issued: InventoryToken | undefined;
  let listed: StoredTool[];
  try {
    issued = await issueInventoryToken(deps.db, deps.keyEncryptionSecret, deps.issuer, resource);
    listed = storedTools(await listServerTools(resource.uri, issued.token, deps));
  } catch (error) {
    const message = error instanceof ToolListingError || error instanceof NoSigningKeyError ? error.message : `tools/list failed: ${String(error).slice(0, 300)}`;
    await deps.db.transaction(async (tx) => {
      await saveRefreshOutcome(tx, resource.uri, message);
      await recordAuditEvent(tx, audit({ type: 'tools.list_failed', outcome: 'failure', resource: resource.uri, scopes: issued?.scopes.join(' '), details: { token_jti: issued?.jti ?? null, error: message } }));
    });
    return { catalog: await getToolCatalog(deps.db, resource.uri), error: message, drifted: [] };
  }
  const drifted = await recordListing(deps.db, resource, listed, audit, { token_jti: issued.jti, source: 'tools/list' }, issued.scopes.join(' '));
  return { catalog: await getToolCatalog(deps.db, resource.uri), error: undefined, drifted };
}


type AuditOf = (event: Parameters<typeof operatorAuditEvent>[1]) => AuditEvent;

/**
 * Keeps `listed` as the catalog served now and records what differs from the pins as drift (once per distinct
 * definition), each audited as `tools.drift_detected`, the listing as `tools.listed`; one transaction.
 * Drift exists only once an operator approved something for the resource: before that every tool is just new.
 */
async function recordListing(db: Db, resource: Resource, listed: StoredTool[], audit: AuditOf, details: Record<string, unknown>, scopes?: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    const [approved, open] = await Promise.all([listApprovedTools(tx, resource.uri), listOpenDrift(tx, resource.uri)]);
    const found: { name: string; kind: DriftKind; digest: string | undefined; diff: string }[] = [];
    if (approved.length > 0) {
      for (const tool of listed) {
        const pin = approved.find((a) => a.name === tool.name);
        if (pin?.digest === tool.digest) continue;
        found.push(pin ? { name: tool.name, kind: 'changed', digest: tool.digest, diff: toolDiff(pin.definition, tool.definition, resource.scopes) }
          : { name: tool.name, kind: 'new', digest: tool.digest, diff: wholeToolDiff(tool.definition, '+') });
      }
      for (const pin of approved) {
        if (!listed.some((t) => t.name === pin.name)) found.push({ name: pin.name, kind: 'removed', digest: undefined, diff: wholeToolDiff(pin.definition, '-') });
      }
    }
    // A tool back at its approved definition (or no longer drifting) closes its open drift.
    for (const name of new Set(open.map((d) => d.name))) if (!found.some((f) => f.name === name)) await resolveDrift(tx, resource.uri, name);
    const fresh = found.filter((f) => !open.some((d) => d.name === f.name && d.kind === f.kind && d.digest === f.digest));
    for (const drift of fresh) {
      await insertDrift(tx, resource.uri, drift);
      await recordAuditEvent(tx, audit({ type: 'tools.drift_detected', resource: resource.uri, details: { tool: drift.name, kind: drift.kind, digest: drift.digest ?? null, diff: drift.diff.slice(0, 4000) } }));
    }
    await replaceListedTools(tx, resource.uri, listed);
    await saveRefreshOutcome(tx, resource.uri, undefined);
    // §4: the tools whose text may carry hidden instructions, named in the listing's audit event as they arrive.
    const poisoned = listed.filter((t) => findingsOf(t.definition, resource.uri).length > 0).map((t) => t.name).sort();
    await recordAuditEvent(tx, audit({ type: 'tools.listed', resource: resource.uri, scopes, details: { ...details, tools: listed.length, drifted: fresh.length, poisoned } }));
    return fresh.map((f) => f.name).sort();
  });
}

const approveInput = z.strictObject({
  tools: z.array(z.string().min(1).max(200)).max(MAX_TOOLS).optional(),
  acknowledgeFlags: z.boolean().optional(),
  seen: z.string().max(MAX_TOOLS * 80).optional(),
});

/**
 * What a page showed of the tools it offers to approve: each one's status and digest, sorted. A form carries
 * it back so that an approval covers exactly the definitions the operator read: a server that changes a tool
 * between the page and the click (and an inventory that records it) gets catalog_changed, not a pin.
 */
export const approvalViewOf = (tools: readonly Pick<CatalogTool, 'status' | 'definition'>[]): string =>
  tools.map((t) => `${t.status}:${toolDigest(t.definition)}`).sort().join(' ');

/**
 * Approves tools as listed now (default: every tool not approved yet, and every removal), audited as
 * `tools.approved`; their open drift is closed. A name that is neither listed nor approved is tool_not_found.
 * §4: a chosen tool whose text has findings (poisoned description) is approved only with `acknowledgeFlags`;
 * without it the whole call is refused (flags_not_acknowledged) and nothing is written, not even the other tools.
 */
export async function approveTools(db: Db, uri: string, input: { tools?: string[] | undefined; acknowledgeFlags?: boolean | undefined; seen?: string | undefined }, by: Operator): Promise<ApprovedCatalog> {
  const { tools: names, acknowledgeFlags = false, seen } = approveInput.parse(input);
  const before = await getToolCatalog(db, uri);
  const chosen = names ? [...new Set(names)].map((name) => {
    const tool = before.tools.find((t) => t.name === name);
    if (!tool) throw new AppError('tool_not_found', `${before.resource.uri} has no tool ${JSON.stringify(name.slice(0, 200))}`);
    return tool;
  }) : before.tools.filter((t) => t.status !== 'approved');
  if (seen !== undefined && approvalViewOf(chosen) !== seen) {
    throw new AppError('catalog_changed', 'Nothing was approved: the tools changed since the page was shown. Review them again, then approve.');
  }
  if (chosen.length === 0) return { ...before, raised: [] };
  // A removal pins nothing the model will read, so only tools that stay need the acknowledgement.
  const flagged = chosen.filter((t) => t.status !== 'removed' && t.findings.length > 0);
  if (flagged.length > 0 && !acknowledgeFlags) {
    throw new AppError('flags_not_acknowledged', `Nothing was approved: ${flagged.map((t) => t.name).join(', ')} ${flagged.length === 1 ? 'has' : 'have'} text that may carry hidden instructions`
      + ' for the model (poisoned description findings). Review the findings, then approve again acknowledging them (CLI: --acknowledge-flags).');
  }
  const raised = await db.transaction(async (tx) => {
    for (const tool of chosen) {
      if (tool.status === 'removed') await deleteApproval(tx, before.resource.uri, tool.name);
      else await saveApproval(tx, before.resource.uri, { name: tool.name, definition: tool.definition, digest: toolDigest(tool.definition) }, by.actor);
      await resolveDrift(tx, before.resource.uri, tool.name);
    }
    const raisedScopes = await flagGrantsOfRaisedScopes(tx, before, chosen, by);
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'tools.approved', resource: before.resource.uri,
      details: {
        tools: chosen.map((t) => ({ name: t.name, was: t.status, digest: t.status === 'removed' ? null : toolDigest(t.definition) })),
        // What the operator acknowledged: each flagged tool's findings by kind and field (the excerpts are in the catalog).
        acknowledged_flags: flagged.map((t) => ({ name: t.name, findings: t.findings.map(({ kind, field }) => ({ kind, field })) })),
      },
    }));
    return raisedScopes;
  });
  return { ...(await getToolCatalog(db, before.resource.uri)), raised };
}

/**
 * §3's last sentence: the pins before and after this approval; a scope whose level rose (src/tools/reconsent.ts)
 * flags the grants holding it, audited as `grant.reconsent_required` with each raised scope and the count.
 */
async function flagGrantsOfRaisedScopes(tx: Queryable, before: ToolCatalog, chosen: readonly CatalogTool[], by: Operator): Promise<RaisedScope[]> {
  const pins = new Map(before.tools.filter((t) => t.approved).map((t) => [t.name, t.approved!.definition]));
  const was = [...pins.values()];
  for (const tool of chosen) {
    if (tool.status === 'removed') pins.delete(tool.name);
    else pins.set(tool.name, tool.definition);
  }
  const raised = await flagRaisedScopes(tx, before.resource.uri, before.resource.scopes, was, [...pins.values()]);
  if (raised.length === 0) return raised;
  await recordAuditEvent(tx, operatorAuditEvent(by, {
    type: 'grant.reconsent_required', resource: before.resource.uri, scopes: raised.map((r) => r.scope).join(' '),
    details: {
      grants: raised.reduce((sum, r) => sum + r.grants, 0),
      raised: raised.map((r) => ({ scope: r.scope, before: r.before, after: r.after, grants: r.grants, tools: r.tools.map((t) => t.name) })),
    },
  }));
  return raised;
}

export const driftPolicies = ['block', 'warn'] as const;

/** Sets what the kit does with drifted write/irreversible tools, audited as `tools.drift_policy_changed`. */
export async function setDriftPolicy(db: Db, uri: string, policy: DriftPolicy, by: Operator): Promise<ToolCatalog> {
  const parsed = z.enum(driftPolicies).parse(policy);
  const resource = await requireResource(db, uri);
  const before = await findToolSettings(db, resource.uri);
  await db.transaction(async (tx) => {
    await saveDriftPolicy(tx, resource.uri, parsed);
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'tools.drift_policy_changed', resource: resource.uri, details: { before: before.driftPolicy, after: parsed } }));
  });
  return getToolCatalog(db, resource.uri);
}

/** Per resource with tools drifted and not approved again: how many (the console's overview, the metrics). */
export const openDriftByResource = (db: Db): Promise<Map<string, number>> => countOpenDriftByResource(db);

const reportedTools = z.strictObject({ tools: z.array(z.looseObject({ name: z.string().min(1).max(200) })).max(MAX_TOOLS) });

/**
 * The definitions a kit-protected server reports it serves (`POST /resource/tools`, with the resource's own
 * credential): recorded exactly as a tools/list answer would be, the resource's client as the actor.
 */
export async function reportServedTools(db: Db, resourceUri: string, clientId: string, body: unknown): Promise<RefreshOutcome> {
  const parsed = reportedTools.safeParse(body);
  if (!parsed.success) throw new AppError('invalid_request', 'send {"tools": [...]}, each tool as tools/list describes it (with a name)');
  const resource = await requireResource(db, resourceUri);
  const audit: AuditOf = (event) => ({ ...event, actor: { type: 'client', id: clientId }, clientId });
  const drifted = await recordListing(db, resource, storedTools(parsed.data.tools), audit, { source: 'kit' });
  return { catalog: await getToolCatalog(db, resource.uri), error: undefined, drifted };
}
