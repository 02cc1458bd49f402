// Turns the grants store's rows into what the /account page says: who a client is and who vouches
// for it, dates a person can read, and each security event as one plain sentence.
import type { GrantSummary, SecurityEvent } from '../grants/store.ts';
import { describeClientIdentity } from '../clients/identity.ts';
import { formatTime } from '../views.ts';

/** The audit events a person sees about themselves (token issuance is usage, shown per grant instead). */
export const SECURITY_EVENT_TYPES = [
  'login.succeeded', 'consent.granted', 'consent.denied', 'grant.revoked', 'exchange.withdrawn',
  'refresh_token.replay_detected', 'authorization_code.replay_detected',
  'federation.linked', 'federation.unlinked',
] as const;

/** Who vouches for the client's name: the same words as the consent page. */
export function describeClientSource(clientId: string, source: string | null) {
  const { label, unverified } = describeClientIdentity(clientId, source);
  return { label, unverified };
}

export function presentGrant(grant: GrantSummary) {
  return {
    grantId: grant.grantId,
    clientId: grant.clientId,
    clientName: grant.clientExists ? grant.clientName ?? grant.clientId : 'An application that is no longer registered',
    clientGone: !grant.clientExists,
    identity: describeClientSource(grant.clientId, grant.clientSource),
    resources: grant.resources.map((resource) => ({
      uri: resource.uri,
      name: resource.name ?? 'A server that is no longer registered',
      scopes: resource.scopes.map((scope) => ({ ...scope, risk: scope.risk ?? 'unknown' })),
    })),
    grantedAt: formatTime(grant.grantedAt),
    expiresAt: formatTime(grant.expiresAt),
    lastUsedAt: formatTime(grant.lastUsedAt),
    lastRefreshedAt: formatTime(grant.lastRefreshedAt),
  };
}

const clientOf = (event: SecurityEvent) => event.clientName ?? event.clientId ?? 'an application';
const scopeList = (event: SecurityEvent) => (event.scopes ? ` (${event.scopes.split(' ').join(', ')})` : '');
const atResource = (event: SecurityEvent) => (event.resource ? ` at ${event.resource}` : '');

/** One sentence per event, and whether it is a warning sign the person should look at. */
export function describeSecurityEvent(event: SecurityEvent): { sentence: string; alarming: boolean } {
  switch (event.type) {
    case 'login.succeeded':
      if (event.details.via === 'federation') return { sentence: `Signed in through identity provider ${String(event.details.provider)}`, alarming: false };
      return { sentence: event.clientId ? `Signed in to authorize ${clientOf(event)}` : 'Signed in to this page', alarming: false };
    case 'consent.granted':
      return { sentence: `Allowed ${clientOf(event)} access${atResource(event)}${scopeList(event)}`, alarming: false };
    case 'consent.denied':
      return { sentence: `Denied ${clientOf(event)} access${atResource(event)}`, alarming: false };
    case 'grant.revoked': {
      const by = event.details.revoked_by;
      if (by === 'account') return { sentence: `You revoked the access of ${clientOf(event)}`, alarming: false };
      return { sentence: `${clientOf(event)} gave up its access`, alarming: false };
    }
    case 'exchange.withdrawn':
      return { sentence: `You stopped ${event.details.from ?? 'a server'} from calling ${event.resource ?? 'a service'} for ${clientOf(event)}`, alarming: false };
    case 'refresh_token.replay_detected':
      return {
        sentence: `An old refresh token of ${clientOf(event)} was used again, a sign it may have been copied: its access was revoked`,
        alarming: true,
      };
    case 'authorization_code.replay_detected':
      return { sentence: `An authorization code for ${clientOf(event)} was used twice: its access was revoked`, alarming: true };
    case 'federation.linked':
      return { sentence: `Identity provider ${String(event.details.provider)} was linked to your account`, alarming: false };
    case 'federation.unlinked':
      return { sentence: `You unlinked identity provider ${String(event.details.provider)}`, alarming: false };
    default:
      return { sentence: event.type, alarming: event.outcome === 'failure' };
  }
}

export function presentSecurityEvent(event: SecurityEvent) {
  return { ...describeSecurityEvent(event), occurredAt: formatTime(event.occurredAt), type: event.type };
}

type PresentedGrant = ReturnType<typeof presentGrant>;

/** Grants grouped by client, in the order of each client's latest grant: one card per application. */
export function groupGrantsByClient<G extends PresentedGrant>(grants: G[]) {
  const groups = new Map<string, { clientId: string; clientName: string; clientGone: boolean; identity: { label: string; unverified: boolean }; grants: G[] }>();
  for (const grant of grants) {
    const group = groups.get(grant.clientId)
      ?? { clientId: grant.clientId, clientName: grant.clientName, clientGone: grant.clientGone, identity: grant.identity, grants: [] };
    group.grants.push(grant);
    groups.set(grant.clientId, group);
  }
  return [...groups.values()];
}
