// What a resource sends us with its own credential (issue 14: one credential per resource, the introspection
// client `client add --introspection --resource URI` registers): its approved catalog, for the kit's pin checks.
import type { Db } from '../db/db.ts';
import { clientSecretMatches } from '../clients/secret.ts';
import { AppError } from '../errors.ts';
import { findResourceByUri } from '../resources/store.ts';
import { toolBudgetsOf, type BudgetsJson } from './budgets.ts';
import { findResourceCredential, findToolSettings, listApprovedTools } from './store.ts';

/** `GET /resource/tools`: the drift policy, the scopes' risk classes and the approved tools' digests. */
export interface ApprovedCatalogJson {
  resource: string;
  drift: 'block' | 'warn';
  scopes: Record<string, string>;
  tools: { name: string; digest: string }[];
  /** Issue 14 §7: call budgets per tool or risk class, and the result-size cap (null: none). */
  budgets: BudgetsJson['budgets'];
  max_result_bytes: number | null;
}

const refused = () => new AppError('invalid_client', 'authenticate with the resource\'s own client (client_secret_basic)', { challenge: 'Basic realm="resource"' });

/** The resource whose credential this is, or invalid_client: an unknown client, a wrong secret, a client of no resource. */
export async function authenticateResource(db: Db, clientId: string, clientSecret: string): Promise<string> {
  const credential = await findResourceCredential(db, clientId);
  if (!credential || !clientSecretMatches(credential.secretDigest, clientSecret)) throw refused();
  return credential.resourceUri;
}

export async function approvedCatalogFor(db: Db, resourceUri: string): Promise<ApprovedCatalogJson> {
  const resource = await findResourceByUri(db, resourceUri);
  if (!resource) throw refused();
  const [settings, approved, budgets] = await Promise.all([findToolSettings(db, resource.uri), listApprovedTools(db, resource.uri), toolBudgetsOf(db, resource.uri)]);
  return {
    resource: resource.uri, drift: settings.driftPolicy,
    scopes: Object.fromEntries(resource.scopes.map((s) => [s.scope, s.risk])),
    tools: approved.map((t) => ({ name: t.name, digest: t.digest })),
    ...budgets,
  };
}
