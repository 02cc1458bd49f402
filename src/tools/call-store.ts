// SQL for the tool calls kits report (migration 0031, issue 14 §6): appended in batches, read per person's grant
// and per resource and client, purged with the audit events. No rules here: src/tools/calls.ts has them.
import type { Queryable } from '../db/db.ts';

export type ToolCallDecision = 'allowed' | 'insufficient_scope' | 'refused_by_pin' | 'refused_by_budget';

export interface NewToolCall {
  occurredAt: Date;
  subject: string | null;
  clientId: string;
  grantId: string | null;
  tool: string;
  argumentsDigest: string;
  decision: ToolCallDecision;
  durationMs: number;
  resultBytes: number | null;
}

export interface StoredToolCall extends NewToolCall { resourceUri: string }

type Row = {
  id?: string; resource_uri: string; occurred_at: Date | string; subject: string | null; client_id: string; grant_id: string | null; tool: string;
  arguments_digest: string; decision: ToolCallDecision; duration_ms: number; result_bytes: string | number | null;
};

const fromRow = (row: Row): StoredToolCall => ({
  resourceUri: row.resource_uri, occurredAt: new Date(row.occurred_at), subject: row.subject, clientId: row.client_id, grantId: row.grant_id,
  tool: row.tool, argumentsDigest: row.arguments_digest, decision: row.decision, durationMs: row.duration_ms,
  resultBytes: row.result_bytes === null ? null : Number(row.result_bytes),
});

const COLUMNS = 'resource_uri, occurred_at, subject, client_id, grant_id, tool, arguments_digest, decision, duration_ms, result_bytes';

/** One INSERT for the whole batch: either every record is stored or none. */
export async function insertToolCalls(db: Queryable, resourceUri: string, calls: readonly NewToolCall[]): Promise<void> {
  if (calls.length === 0) return;
  const values: unknown[] = [];
  const tuples = calls.map((call) => {
    values.push(resourceUri, call.occurredAt, call.subject, call.clientId, call.grantId, call.tool, call.argumentsDigest, call.decision, call.durationMs, call.resultBytes);
    const at = values.length - 10;
    return `(${Array.from({ length: 10 }, (_, i) => `$${at + i + 1}`).join(', ')})`;
  });
  await db.query(`INSERT INTO tool_calls (${COLUMNS}) VALUES ${tuples.join(', ')}`, values);
}

/** The latest calls a client made at a resource for one person (their grant on /account), newest first. */
export async function listToolCallsForPerson(db: Queryable, subject: string, clientId: string, resourceUri: string, limit: number): Promise<StoredToolCall[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM tool_calls WHERE subject = $1 AND client_id = $2 AND resource_uri = $3
    ORDER BY occurred_at DESC, id DESC LIMIT $4`, [subject, clientId, resourceUri, limit]);
  return rows.map(fromRow);
}

/** The latest calls at a resource, of one client or all, newest first (the console). */
export async function listToolCallsForResource(db: Queryable, resourceUri: string, clientId: string | undefined, limit: number): Promise<StoredToolCall[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM tool_calls WHERE resource_uri = $1 AND ($2::text IS NULL OR client_id = $2)
    ORDER BY occurred_at DESC, id DESC LIMIT $3`, [resourceUri, clientId ?? null, limit]);
  return rows.map(fromRow);
}

/** Deletes calls older than `cutoff`, at most `limit` rows; how many went (the audit retention purge). */
export async function deleteToolCallsBefore(db: Queryable, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM tool_calls WHERE id IN (
    SELECT id FROM tool_calls WHERE occurred_at < $1::timestamptz ORDER BY occurred_at LIMIT $2)`, [cutoff, limit]);
  return rowCount;
}

/** Calls from `since` to `until` (exclusive) in the order received (id), `pageSize` rows per query (audit export). */
export async function* streamToolCalls(db: Queryable, since: Date, until: Date | undefined, pageSize = 500): AsyncGenerator<StoredToolCall> {
  let afterId = '0';
  for (;;) {
    const { rows } = await db.query<Row & { id: string }>(`SELECT id::text AS id, ${COLUMNS} FROM tool_calls
      WHERE occurred_at >= $1::timestamptz AND ($2::timestamptz IS NULL OR occurred_at < $2::timestamptz) AND id > $3::bigint
      ORDER BY id LIMIT $4`, [since, until ?? null, afterId, pageSize]);
    yield* rows.map(fromRow);
    if (rows.length < pageSize) return;
    afterId = rows[rows.length - 1]!.id;
  }
}
