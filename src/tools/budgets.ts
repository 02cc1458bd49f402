// Tool budgets (issue 14 §7): an operator caps how often a tool (or every tool of a risk class) may be called per
// grant in a window, and how large a result may be; validated, stored and audited here, enforced by the kit.
import { z } from 'zod';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { recordAuditEvent } from '../audit/store.ts';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { requireResource } from '../resources/service.ts';
import { deleteToolBudget, findMaxResultBytes, listToolBudgets, saveMaxResultBytes, saveToolBudget, type ToolBudget } from './budget-store.ts';

const target = z.union([
  z.strictObject({ tool: z.string().min(1).max(200), risk: z.undefined() }),
  z.strictObject({ tool: z.undefined(), risk: z.enum(['read', 'write', 'irreversible']) }),
]);
const limit = z.strictObject({ max: z.int().min(1).max(1_000_000), per: z.int().min(1).max(31_536_000) });

/** Budgets of a resource as the kit and the CLI read them. */
export type BudgetsJson = { budgets: { tool: string | null; risk: string | null; max: number; per_seconds: number }[]; max_result_bytes: number | null };

export async function toolBudgetsOf(db: Db, uri: string): Promise<BudgetsJson> {
  const [budgets, maxResultBytes] = await Promise.all([listToolBudgets(db, uri), findMaxResultBytes(db, uri)]);
  return { budgets: budgets.map((b) => ({ tool: b.tool, risk: b.risk, max: b.maxCalls, per_seconds: b.perSeconds })), max_result_bytes: maxResultBytes };
}

/** The budgets of a registered resource (resource_not_found otherwise): what the CLI, the console and the admin API show. */
export async function getToolBudgets(db: Db, uri: string): Promise<BudgetsJson> {
  const resource = await requireResource(db, uri);
  return toolBudgetsOf(db, resource.uri);
}

const targetOf = (input: { tool?: string | undefined; risk?: string | undefined }) => {
  const parsed = target.safeParse({ tool: input.tool, risk: input.risk });
  if (!parsed.success) throw new AppError('invalid_request', 'a budget applies to exactly one of a tool (its name, at most 200 characters) or a risk class (read, write or irreversible)');
  return parsed.data;
};

/** Sets (replacing) the budget of one tool or one risk class at a resource; audited `tools.budget_changed`. */
export async function setToolBudget(db: Db, uri: string, input: { tool?: string | undefined; risk?: string | undefined; max: number; per: number }, by: Operator): Promise<BudgetsJson> {
  const which = targetOf(input);
  const parsed = limit.safeParse({ max: input.max, per: input.per });
  if (!parsed.success) throw new AppError('invalid_request', 'a budget allows 1 to 1000000 calls (max) per 1 to 31536000 seconds (per)');
  const resource = await requireResource(db, uri);
  const budget: ToolBudget = { tool: which.tool ?? null, risk: which.risk ?? null, maxCalls: parsed.data.max, perSeconds: parsed.data.per };
  await db.transaction(async (tx) => {
    await saveToolBudget(tx, resource.uri, budget);
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'tools.budget_changed', resource: resource.uri, details: { tool: budget.tool, risk: budget.risk, max: budget.maxCalls, per_seconds: budget.perSeconds } }));
  });
  return toolBudgetsOf(db, resource.uri);
}

/** Removes the budget of one tool or one risk class (tool_not_found when there was none). */
export async function removeToolBudget(db: Db, uri: string, input: { tool?: string | undefined; risk?: string | undefined }, by: Operator): Promise<BudgetsJson> {
  const which = targetOf(input);
  const resource = await requireResource(db, uri);
  await db.transaction(async (tx) => {
    if (!await deleteToolBudget(tx, resource.uri, which.tool ?? null, which.risk ?? null)) throw new AppError('tool_not_found', 'there is no such budget at this resource');
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'tools.budget_changed', resource: resource.uri, details: { tool: which.tool ?? null, risk: which.risk ?? null, removed: true } }));
  });
  return toolBudgetsOf(db, resource.uri);
}

/** Sets the result-size cap (null: none); audited. */
export async function setMaxResultBytes(db: Db, uri: string, bytes: number | null, by: Operator): Promise<BudgetsJson> {
  if (bytes !== null && !z.int().min(1).max(2_000_000_000).safeParse(bytes).success) throw new AppError('invalid_request', 'the result-size cap is 1 to 2000000000 bytes (or none)');
  const resource = await requireResource(db, uri);
  await db.transaction(async (tx) => {
    await saveMaxResultBytes(tx, resource.uri, bytes);
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'tools.budget_changed', resource: resource.uri, details: { max_result_bytes: bytes } }));
  });
  return toolBudgetsOf(db, resource.uri);
}
