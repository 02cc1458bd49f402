// What the consent page shows (who asks, for which resource, which scopes and their risk) and what
// approving records: exactly the missing scopes of the one requested resource, added to the grant.
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';
import { findResourceByUri } from '../resources/store.ts';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;
type Client = Awaited<ReturnType<Provider['Client']['find']>>;

interface PromptDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export async function describeConsent(db: Db, details: InteractionDetails, client: Client) {
  const prompt = details.prompt.details as PromptDetails;
  const [resourceUri, requestedScopes] = Object.entries(prompt.missingResourceScopes ?? {})[0] ?? [];
  const canonical = resourceUri ? tryCanonicalResourceUri(resourceUri) : undefined;
  const resource = canonical ? await findResourceByUri(db, canonical) : undefined;
  const scopes = (requestedScopes ?? []).map((scope) => {
    const declared = resource?.scopes.find((s) => s.scope === scope);
    return { scope, risk: declared?.risk ?? 'read', description: declared?.description ?? '' };
  });
  const redirectUri = URL.parse(String(details.params.redirect_uri ?? ''));
  return {
    clientName: client?.clientName ?? client?.clientId ?? 'Unknown application',
    clientId: client?.clientId ?? '',
    redirectHost: redirectUri?.host ?? '',
    resourceName: resource?.name ?? resourceUri ?? '',
    resourceUri: resource?.uri ?? resourceUri ?? '',
    scopes,
    wantsOfflineAccess: (prompt.missingOIDCScope ?? []).includes('offline_access'),
  };
}

export async function grantConsent(provider: Provider, details: InteractionDetails) {
  const accountId = details.session?.accountId;
  const clientId = String(details.params.client_id);
  const grant = details.grantId
    ? (await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId })
    : new provider.Grant({ accountId, clientId });
  const prompt = details.prompt.details as PromptDetails;
  if (prompt.missingOIDCScope?.length) grant.addOIDCScope(prompt.missingOIDCScope.join(' '));
  if (prompt.missingOIDCClaims?.length) grant.addOIDCClaims(prompt.missingOIDCClaims);
  let resource: string | undefined;
  let scopes: string[] = [];
  for (const [indicator, missing] of Object.entries(prompt.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, missing.join(' '));
    resource = indicator;
    scopes = missing;
  }
  const grantId = await grant.save();
  return { grantId, resource, scopes };
}
