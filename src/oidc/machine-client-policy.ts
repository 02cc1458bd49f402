// The client_credentials grant's rules (MCP ext-auth OAuth Client Credentials, SEP-1046), run inside
// oidc-provider's resource lookup: a machine client's token names its one bound resource and only its allowed scopes.
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import type { MachineBinding } from '../clients/machine-schema.ts';
import { CLIENT_CREDENTIALS_GRANT, findMachineBinding } from '../clients/machine-store.ts';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';
import { scopesWithRisk, type ResourceDirectory } from './resource-servers.ts';

type GetResourceServerInfo = (ctx: KoaContextWithOIDC, indicator: string, client?: { clientId: string }) => Promise<ResourceServer>;
type DefaultResource = (ctx: KoaContextWithOIDC, client: { clientId: string }, oneOf?: string[]) => Promise<string | undefined>;

const isMachineTokenRequest = (ctx: KoaContextWithOIDC) => ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === CLIENT_CREDENTIALS_GRANT;

/**
 * oidc-provider's defaultResource and getResourceServerInfo with the machine-client rules in front. Only
 * operator-registered machine clients have the grant type at all (oidc-provider answers unauthorized_client
 * to the rest); for them: the audience is the bound resource (an omitted `resource` means it, another is
 * invalid_target), a scope beyond the allowed ones is invalid_scope, irreversible scopes only where the
 * operator allowed them for this client, and no scope asked means the allowed reversible ones.
 */
export function withMachineClientBinding(
  db: Db, resources: Pick<ResourceDirectory, 'resolvedFor'>, inner: { getResourceServerInfo: GetResourceServerInfo; defaultResource: DefaultResource },
): { getResourceServerInfo: GetResourceServerInfo; defaultResource: DefaultResource } {
  // One query; a second only when `resource` was omitted (the default step asks first).
  const bindingFor = async (clientId: string | undefined): Promise<MachineBinding> => {
    const binding = clientId ? await findMachineBinding(db, clientId) : undefined;
    // Its resource was deleted (the binding cascades away): there is no audience left to name.
    if (!binding) throw new errors.InvalidTarget('this client is bound to no registered resource');
    return binding;
  };

  async function defaultResource(ctx: KoaContextWithOIDC, client: { clientId: string }, oneOf?: string[]) {
    if (!isMachineTokenRequest(ctx)) return inner.defaultResource(ctx, client, oneOf);
    return (await bindingFor(client.clientId)).resource;
  }

  async function getResourceServerInfo(ctx: KoaContextWithOIDC, indicator: string, client?: { clientId: string }) {
    if (!isMachineTokenRequest(ctx)) return inner.getResourceServerInfo(ctx, indicator, client);
    const binding = await bindingFor(client?.clientId);
    if (tryCanonicalResourceUri(indicator) !== binding.resource) {
      throw new errors.InvalidTarget(`this client may obtain tokens only for ${binding.resource}`);
    }
    // The resource's own rules still hold: disabled, or open only to listed clients (invalid_target).
    const info = await inner.getResourceServerInfo(ctx, indicator, client);
    const resource = resources.resolvedFor(ctx, String(info.audience));
    const declared = new Set((resource?.scopes ?? []).map((s) => s.scope));
    const irreversible = new Set(scopesWithRisk(resource, 'irreversible'));
    // Scopes the resource no longer declares, or that became irreversible since, fall away here.
    const allowed = binding.scopes.filter((s) => declared.has(s) && (binding.allowIrreversible || !irreversible.has(s)));
    const params = ctx.oidc.params!;
    const requested = String(params.scope ?? '').split(' ').filter(Boolean);
    if (requested.length === 0) {
      // RFC 6749 §3.3: an omitted scope gets the server's default: what is allowed, less what cannot be undone.
      params.scope = allowed.filter((s) => !irreversible.has(s)).join(' ') || undefined;
    }
    const beyond = requested.filter((s) => !allowed.includes(s));
    const beyondIrreversible = beyond.filter((s) => irreversible.has(s)).join(' ');
    if (beyondIrreversible) {
      throw new errors.InvalidScope(`scope ${beyondIrreversible} is irreversible and not allowed for this client`, beyondIrreversible);
    }
    if (beyond.length > 0) {
      throw new errors.InvalidScope(`this client may ask for ${allowed.join(' ') || 'no scope'} at ${binding.resource}`, beyond.join(' '));
    }
    return { ...info, scope: allowed.join(' ') } as ResourceServer;
  }

  return { getResourceServerInfo, defaultResource };
}
