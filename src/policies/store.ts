// SQL for resource policies (migrations/0027) and for the facts a policy is judged on: a person's email and
// the claims of their federated identities at enabled providers. Rows in, records out, nothing decided here.
import type { Queryable } from '../db/db.ts';
import type { Risk } from '../resources/schema.ts';

export interface Policy { id: string; resourceUri: string; claim: string; value: string; maxRisk: Risk; createdAt: Date }

/** One linked identity's claims (federated_identities.claims, written by the sign-in flow) and its provider. */
export interface IdentityClaims { providerName: string; claims: Record<string, unknown> }

interface Row { id: string; resource_uri: string; claim: string; value: string; max_risk: Risk; created_at: Date }

const record = (row: Row): Policy => ({
  id: row.id, resourceUri: row.resource_uri, claim: row.claim, value: row.value, maxRisk: row.max_risk, createdAt: row.created_at,
});

export async function insertPolicy(db: Queryable, p: Omit<Policy, 'createdAt'>): Promise<Policy> {
  const { rows: [row] } = await db.query<Row>(
    `INSERT INTO resource_policies (id, resource_uri, claim, value, max_risk) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [p.id, p.resourceUri, p.claim, p.value, p.maxRisk]);
  return record(row!);
}

export async function findPolicy(db: Queryable, resourceUri: string, claim: string, value: string): Promise<Policy | undefined> {
  const { rows: [row] } = await db.query<Row>(
    'SELECT * FROM resource_policies WHERE resource_uri = $1 AND claim = $2 AND value = $3', [resourceUri, claim, value]);
  return row && record(row);
}

export async function deletePolicy(db: Queryable, id: string): Promise<Policy | undefined> {
  const { rows: [row] } = await db.query<Row>('DELETE FROM resource_policies WHERE id = $1 RETURNING *', [id]);
  return row && record(row);
}

export async function listPolicies(db: Queryable): Promise<Policy[]> {
  const { rows } = await db.query<Row>('SELECT * FROM resource_policies ORDER BY resource_uri, claim, value');
  return rows.map(record);
}

export async function listPoliciesForResource(db: Queryable, resourceUri: string): Promise<Policy[]> {
  const { rows } = await db.query<Row>('SELECT * FROM resource_policies WHERE resource_uri = $1 ORDER BY claim, value', [resourceUri]);
  return rows.map(record);
}

/** The account's email and its identities' claims; a disabled provider's identities count for nothing. */
export async function findPolicySubject(db: Queryable, accountId: string): Promise<{ email: string | undefined; identities: IdentityClaims[] }> {
  const { rows } = await db.query<{ email: string; provider_name: string | null; claims: Record<string, unknown> | null }>(
    `SELECT a.email, p.name AS provider_name, f.claims FROM accounts a
       LEFT JOIN federated_identities f ON f.account_id = a.id
       LEFT JOIN identity_providers p ON p.id = f.provider_id AND p.disabled_at IS NULL
     WHERE a.id = $1 ORDER BY p.name`, [accountId]);
  return {
    email: rows[0]?.email,
    identities: rows.filter((r) => r.provider_name !== null)
      .map((r) => ({ providerName: r.provider_name!, claims: r.claims ?? {} })),
  };
}

/**
 * The same facts as listPoliciesForResource and findPolicySubject's identities, as two JSON columns
 * (`policies`, `identities`) of a larger query: the token request's one read (src/oidc/token-prefetch.ts).
 */
export const policyFactsSql = (resourceUri: string, accountId: string) => `
    (SELECT coalesce(json_agg(json_build_object('id', p.id, 'resource_uri', p.resource_uri, 'claim', p.claim, 'value', p.value,
        'max_risk', p.max_risk, 'created_at', p.created_at) ORDER BY p.claim, p.value), '[]'::json)
       FROM resource_policies p WHERE p.resource_uri = ${resourceUri}) AS policies,
    (SELECT coalesce(json_agg(json_build_object('provider_name', ip.name, 'claims', f.claims) ORDER BY ip.name), '[]'::json)
       FROM federated_identities f JOIN identity_providers ip ON ip.id = f.provider_id AND ip.disabled_at IS NULL
      WHERE f.account_id = ${accountId}) AS identities`;

/** Records from policyFactsSql's JSON columns. */
export function policyFactsFromJson(policies: unknown, identities: unknown): { policies: Policy[]; identities: IdentityClaims[] } {
  const rows = (Array.isArray(policies) ? policies : []) as (Omit<Row, 'created_at'> & { created_at: string })[];
  const linked = (Array.isArray(identities) ? identities : []) as { provider_name: string; claims: Record<string, unknown> | null }[];
  return {
    policies: rows.map((row) => record({ ...row, created_at: new Date(row.created_at) })),
    identities: linked.map((i) => ({ providerName: i.provider_name, claims: i.claims ?? {} })),
  };
}
