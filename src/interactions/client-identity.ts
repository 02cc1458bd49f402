// Where a client's identity comes from, in words a person can judge: registered by the operator,
// vouched for by the domain serving its Client ID Metadata Document, or self-registered and unverified.
import type Provider from 'oidc-provider';

type Client = Awaited<ReturnType<Provider['Client']['find']>>;

export type IdentitySource = 'operator' | 'client_id_metadata_document' | 'dynamic_registration';

export interface ClientIdentity {
  source: IdentitySource;
  /** One line for the page. */
  label: string;
  /** Whether the page should warn that nobody vouches for the name. */
  unverified: boolean;
}

export function identitySourceOf(client: Client): IdentitySource {
  const source = (client?.metadata() as { portcullis_source?: string } | undefined)?.portcullis_source;
  if (source === 'operator') return 'operator';
  // A client_id that is an https URL is a Client ID Metadata Document (MCP 2025-11-25).
  if (source === 'client_id_metadata_document' || client?.clientId.startsWith('https://')) return 'client_id_metadata_document';
  return 'dynamic_registration';
}

export function describeClientIdentity(client: Client): ClientIdentity {
  const source = identitySourceOf(client);
  if (source === 'operator') return { source, label: 'Pre-registered by the operator of this server', unverified: false };
  if (source === 'client_id_metadata_document') {
    const host = URL.parse(client?.clientId ?? '')?.host ?? 'its domain';
    return { source, label: `Identified by its domain ${host} (Client ID Metadata Document)`, unverified: false };
  }
  return { source, label: 'Self-registered: nobody has verified who runs this application', unverified: true };
}
