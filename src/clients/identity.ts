// Where a client's identity comes from, in words a person can judge: registered by the operator,
// vouched for by the domain serving its Client ID Metadata Document, or self-registered and unverified.
// One wording for every page (consent, the /account portal).

export type IdentitySource = 'operator' | 'client_id_metadata_document' | 'dynamic_registration';

export interface ClientIdentity {
  source: IdentitySource;
  /** One line for the page. */
  label: string;
  /** Whether the page should warn that nobody vouches for the name. */
  unverified: boolean;
}

/** From the client's `portcullis_source` metadata; a client_id that is an https URL is a CIMD (MCP 2025-11-25). */
export function identitySourceOf(clientId: string, source: string | null | undefined): IdentitySource {
  if (source === 'operator') return 'operator';
  if (source === 'client_id_metadata_document' || clientId.startsWith('https://')) return 'client_id_metadata_document';
  return 'dynamic_registration';
}

export function describeClientIdentity(clientId: string, source: string | null | undefined): ClientIdentity {
  const kind = identitySourceOf(clientId, source);
  if (kind === 'operator') return { source: kind, label: 'Pre-registered by the operator of this server', unverified: false };
  if (kind === 'client_id_metadata_document') {
    const host = URL.parse(clientId)?.host ?? clientId;
    return { source: kind, label: `Identified by its domain ${host} (Client ID Metadata Document)`, unverified: false };
  }
  return { source: kind, label: 'Self-registered: nobody has verified who runs this application', unverified: true };
}
