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
  const [missingFor, missing = []] = Object.entries(prompt.missingResourceScopes ?? {})[0] ?? [];
  const resourceUri = missingFor ?? (typeof details.params.resource === 'string' ? details.params.resource : undefined);
  const canonical = resourceUri ? tryCanonicalResourceUri(resourceUri) : undefined;
  const resource = canonical ? await findResourceByUri(db, canonical) : undefined;
  // Everything this request asks of the resource: new scopes to approve, and ones approved before
  // (native apps are asked again each time: their loopback redirect proves nothing, RFC 8252 §8.6).
  const requested = String(details.params.scope ?? '').split(' ');
  const scopes = (resource?.scopes ?? [])
    .filter((declared) => missing.includes(declared.scope) || requested.includes(declared.scope))
    .map((declared) => ({ ...declared, previouslyApproved: !missing.includes(declared.scope) }));
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
