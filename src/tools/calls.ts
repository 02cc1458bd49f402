// Every tool call, end to end (issue 14 §6): the batches of records a kit sends with its resource's own credential
// (`POST /resource/tool-calls`), validated, stored whole or not at all, audited as a summary; read per grant and resource.
import { z } from 'zod';
import { recordAuditEvent } from '../audit/store.ts';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { hostileValueReason } from '../input/hostile-values.ts';
import { deleteToolCallsBefore, insertToolCalls, streamToolCalls, listToolCallsForPerson, listToolCallsForResource, type StoredToolCall } from './call-store.ts';

/** Records per batch: the kit sends at most 100; a body stays under the input boundary's 56 KiB. */
export const MAX_TOOL_CALLS_PER_BATCH = 150;
/** A record may not claim a time further ahead than this (clock skew), nor be older than the retention. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

const text = (max: number) => z.string().min(1).max(max);
const record = z.strictObject({
  at: z.iso.datetime({ offset: true }),
  sub: text(255).nullable(),
  client_id: text(255),
  grant_id: text(255).nullable(),
  tool: text(200),
  arguments_digest: z.string().regex(/^sha256:[A-Za-z0-9_-]{43}$/),
  decision: z.enum(['allowed', 'insufficient_scope', 'refused_by_pin', 'refused_by_budget']),
  duration_ms: z.int().min(0).max(24 * 3600 * 1000),
  result_bytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
});
const batch = z.strictObject({
  resource: z.string().max(2000).optional(),
  records: z.array(record).max(MAX_TOOL_CALLS_PER_BATCH),
  dropped: z.int().min(0).max(1_000_000_000).default(0),
});

export interface RecordedBatch { stored: number; dropped: number }

/**
 * One batch from the kit of `resourceUri` (the credential's resource, never one the body names): every record
 * stored in one transaction with one `tools.calls_recorded` audit event (counts per decision, the kit's dropped
 * count), or nothing at all.
 */
export async function recordToolCalls(db: Db, resourceUri: string, credentialClientId: string, body: unknown, now = new Date()): Promise<RecordedBatch> {
  const hostile = hostileValueReason(body);
  if (hostile) throw new AppError('invalid_request', `the tool-call records ${hostile}`);
  const parsed = batch.safeParse(body);
  if (!parsed.success) {
    const tooMany = parsed.error.issues.some((issue) => issue.code === 'too_big' && issue.path.length === 1 && issue.path[0] === 'records');
    throw tooMany
      ? new AppError('payload_too_large', `send at most ${MAX_TOOL_CALLS_PER_BATCH} records per batch`)
      : new AppError('invalid_request', `send {"records": [...], "dropped": N}, each record as the kit's ToolCallRecord (${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message})`);
  }
  if (parsed.data.resource !== undefined && parsed.data.resource !== resourceUri) {
    throw new AppError('resource_mismatch', 'these records name another resource than the one this credential belongs to');
  }
  const calls = parsed.data.records.map((r) => ({
    occurredAt: new Date(r.at), subject: r.sub, clientId: r.client_id, grantId: r.grant_id, tool: r.tool,
    argumentsDigest: r.arguments_digest, decision: r.decision, durationMs: r.duration_ms, resultBytes: r.result_bytes,
  }));
  if (calls.some((c) => c.occurredAt.getTime() > now.getTime() + FUTURE_SKEW_MS)) throw new AppError('invalid_request', 'a record is dated in the future');
  const decisions: Record<string, number> = {};
  for (const call of calls) decisions[call.decision] = (decisions[call.decision] ?? 0) + 1;
  await db.transaction(async (tx) => {
    await insertToolCalls(tx, resourceUri, calls);
    await recordAuditEvent(tx, {
      type: 'tools.calls_recorded', actor: { type: 'client', id: credentialClientId }, clientId: credentialClientId, resource: resourceUri,
      outcome: parsed.data.dropped > 0 ? 'failure' : 'success',
      details: { records: calls.length, decisions, dropped: parsed.data.dropped, tools: [...new Set(calls.map((c) => c.tool))].slice(0, 20) },
    });
  });
  return { stored: calls.length, dropped: parsed.data.dropped };
}

/** One call on the wire and in the console. */
export interface ToolCallJson { resource: string; grant_id: string | null; at: string; tool: string; decision: string; client_id: string; sub: string | null; duration_ms: number; result_bytes: number | null; arguments_digest: string }

export const toolCallJson = (call: StoredToolCall): ToolCallJson => ({
  resource: call.resourceUri, grant_id: call.grantId, at: call.occurredAt.toISOString(), tool: call.tool, decision: call.decision, client_id: call.clientId, sub: call.subject,
  duration_ms: call.durationMs, result_bytes: call.resultBytes, arguments_digest: call.argumentsDigest,
});

/** The latest calls one client made for a person at a resource (their grant on /account). */
export const recentCallsForGrant = (db: Db, accountId: string, clientId: string, resourceUri: string, limit = 10): Promise<StoredToolCall[]> =>
  listToolCallsForPerson(db, accountId, clientId, resourceUri, limit);

/** The latest calls at a resource, all clients or one (the console's resource tools page). */
export const recentCallsAtResource = (db: Db, resourceUri: string, clientId?: string, limit = 50): Promise<StoredToolCall[]> =>
  listToolCallsForResource(db, resourceUri, clientId, limit);

/** A call as a person reads it: when, which tool, what became of it in words. */
export interface PresentedToolCall { at: { text: string; iso: string } | null; tool: string; decision: string; refused: boolean; resultBytes: number | null; durationMs: number; clientId: string }

const DECISION_WORDS: Record<string, string> = {
  allowed: 'Allowed',
  insufficient_scope: 'Refused: needs more access than you gave',
  refused_by_pin: 'Refused: this tool is not approved by the administrator',
  refused_by_budget: 'Refused: over its limit',
};

// The tool name is the server's text: control, invisible and bidi characters could reorder or hide the page's words.
const HIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

export function presentToolCall(call: StoredToolCall, formatTime: (d: Date) => { text: string; iso: string } | null): PresentedToolCall {
  return {
    at: formatTime(call.occurredAt), tool: call.tool.replace(HIDDEN, ''), decision: DECISION_WORDS[call.decision] ?? call.decision,
    refused: call.decision !== 'allowed', resultBytes: call.resultBytes, durationMs: call.durationMs, clientId: call.clientId,
  };
}

/**
 * Per grant, the latest calls its client made for the person at its resources (the portal, issue 14 §6). Our
 * tokens carry no grant id, so a grant's calls are the person's (`sub`) with that client at those resources.
 */
export async function toolCallsOfGrants(db: Db, accountId: string, grants: readonly { grantId: string; clientId: string; resources: readonly { uri: string }[] }[], limit = 10): Promise<Map<string, StoredToolCall[]>> {
  const byGrant = new Map<string, StoredToolCall[]>();
  for (const grant of grants) {
    const calls = (await Promise.all(grant.resources.map((r) => listToolCallsForPerson(db, accountId, grant.clientId, r.uri, limit)))).flat();
    byGrant.set(grant.grantId, calls.sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime()).slice(0, limit));
  }
  return byGrant;
}

/**
 * Deletes tool calls older than `retentionDays` (AUDIT_RETENTION_DAYS: kept exactly as long as the audit trail),
 * `batchSize` at a time; the purge is itself audited (`tools.calls_purged`). Returns how many went.
 */
export async function purgeExpiredToolCalls(db: Db, retentionDays: number, batchSize = 5000, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 24 * 3600 * 1000);
  let total = 0;
  for (;;) {
    const deleted = await deleteToolCallsBefore(db, cutoff, batchSize);
    total += deleted;
    if (deleted < batchSize) break;
  }
  if (total > 0) {
    await recordAuditEvent(db, { type: 'tools.calls_purged', actor: { type: 'system' }, details: { deleted: total, before: cutoff.toISOString(), retention_days: retentionDays } });
  }
  return total;
}

/** Every stored call from `since` to `until` as its wire JSON, a page at a time (`audit export --tool-calls`). */
export async function* exportToolCalls(db: Db, since: Date, until: Date | undefined): AsyncGenerator<ToolCallJson> {
  for await (const call of streamToolCalls(db, since, until)) yield toolCallJson(call);
}
