// SQL for tool budgets (migration 0032, issue 14 §7): per resource, a call budget per tool or per risk class, and
// the result-size cap. No rules here: src/tools/budgets.ts has them.
import type { Queryable } from '../db/db.ts';

export type BudgetRisk = 'read' | 'write' | 'irreversible';
export interface ToolBudget { tool: string | null; risk: BudgetRisk | null; maxCalls: number; perSeconds: number }

export async function listToolBudgets(db: Queryable, uri: string): Promise<ToolBudget[]> {
  const { rows } = await db.query<{ tool: string | null; risk: BudgetRisk | null; max_calls: number; per_seconds: number }>(
    'SELECT tool, risk, max_calls, per_seconds FROM resource_tool_budgets WHERE resource_uri = $1 ORDER BY tool NULLS LAST, risk', [uri]);
  return rows.map((r) => ({ tool: r.tool, risk: r.risk, maxCalls: r.max_calls, perSeconds: r.per_seconds }));
}

/**
 * Sets the budget of one tool or one risk class, replacing the one it had: one upsert on the partial unique index
 * of its kind, so two operators setting the same budget at once both succeed and leave one row (a delete then an
 * insert let the second insert hit the index).
 */
export async function saveToolBudget(db: Queryable, uri: string, budget: ToolBudget): Promise<void> {
  const target = budget.tool !== null ? '(resource_uri, tool) WHERE tool IS NOT NULL' : '(resource_uri, risk) WHERE risk IS NOT NULL';
  await db.query(`INSERT INTO resource_tool_budgets (resource_uri, tool, risk, max_calls, per_seconds) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT ${target} DO UPDATE SET max_calls = EXCLUDED.max_calls, per_seconds = EXCLUDED.per_seconds`,
  [uri, budget.tool, budget.risk, budget.maxCalls, budget.perSeconds]);
}

/** Removes the budget of one tool or one risk class; whether there was one. */
export async function deleteToolBudget(db: Queryable, uri: string, tool: string | null, risk: BudgetRisk | null): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM resource_tool_budgets WHERE resource_uri = $1
    AND (($2::text IS NOT NULL AND tool = $2) OR ($3::text IS NOT NULL AND risk = $3))`, [uri, tool, risk]);
  return rowCount > 0;
}

export async function findMaxResultBytes(db: Queryable, uri: string): Promise<number | null> {
  const { rows } = await db.query<{ max_result_bytes: number | null }>('SELECT max_result_bytes FROM resource_tool_settings WHERE resource_uri = $1', [uri]);
  return rows[0]?.max_result_bytes ?? null;
}

export async function saveMaxResultBytes(db: Queryable, uri: string, bytes: number | null): Promise<void> {
  await db.query(`INSERT INTO resource_tool_settings (resource_uri, max_result_bytes) VALUES ($1, $2)
    ON CONFLICT (resource_uri) DO UPDATE SET max_result_bytes = EXCLUDED.max_result_bytes`, [uri, bytes]);
}
