// What a fetched Client ID Metadata Document must say, and the client metadata we derive from it for
// oidc-provider: its client_id equal to the URL, a name, redirect URIs under our usual rules, public or
// private_key_jwt clients only (named outright, or chosen from an RP Metadata Choices list). Unknown
// fields are ignored; secrets and fetch-triggering fields refused.
import { z } from 'zod';
import { inferApplicationType, redirectUriProblem } from '../clients/redirect-uri-rules.ts';
import { MetadataDocumentError } from './errors.ts';
import { hostileValueReason } from '../input/hostile-values.ts';

const redirectUri = z.string().max(2000);
const httpsUrl = z.string().max(2000).refine((value) => URL.parse(value)?.protocol === 'https:', 'must be an https URL');

const documentSchema = z.object({
  client_id: z.string(),
  client_name: z.string().trim().min(1, 'is required').max(200),
  redirect_uris: z.array(redirectUri).min(1, 'must list at least one redirect URI').max(20),
  post_logout_redirect_uris: z.array(redirectUri).max(20).optional(),
  client_uri: httpsUrl.optional(),
  logo_uri: httpsUrl.optional(),
  tos_uri: httpsUrl.optional(),
  policy_uri: httpsUrl.optional(),
  application_type: z.enum(['web', 'native']).optional(),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  // Shared secrets make no sense for a client anyone can claim by URL (the CIMD draft forbids them).
  token_endpoint_auth_method: z.enum(['none', 'private_key_jwt'], 'must be none, or private_key_jwt with jwks or jwks_uri').optional(),
  token_endpoint_auth_signing_alg: z.string().optional(),
  // OpenID Connect RP Metadata Choices 1.0 §3: the methods the client can use, for a server that sends
  // no registration response to say which one it chose (as with a metadata document).
  token_endpoint_auth_methods_supported: z.array(z.string()).min(1).max(20).optional(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(10) }).optional(),
  jwks_uri: httpsUrl.optional(),
});

// A secret in a public document is no secret; the URL fields make us fetch elsewhere at the client's word.
const REFUSED_FIELDS = ['client_secret', 'client_secret_expires_at', 'sector_identifier_uri', 'request_uris'];
const SUPPORTED_GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

export type ClientMetadata = Record<string, unknown> & { client_id: string; client_name: string; redirect_uris: string[] };

const invalid = (reason: string) => new MetadataDocumentError('invalid_document', reason);

type Document = z.infer<typeof documentSchema>;

/**
 * The token endpoint authentication the client gets: the one it names, or else our choice from the
 * methods it lists (its keys when it publishes them, public otherwise); no field at all means public.
 */
function chooseAuthMethod(document: Document): 'none' | 'private_key_jwt' {
  if (document.token_endpoint_auth_method) return document.token_endpoint_auth_method;
  const offered = document.token_endpoint_auth_methods_supported;
  if (!offered) return 'none';
  if (offered.includes('private_key_jwt') && (document.jwks || document.jwks_uri)) return 'private_key_jwt';
  if (offered.includes('none')) return 'none';
  throw invalid(`its token_endpoint_auth_methods_supported (${offered.join(', ')}) offers neither none nor private_key_jwt with jwks or jwks_uri`);
}

/** The client metadata a document yields for `clientId`, or MetadataDocumentError('invalid_document'). */
export function clientMetadataFromDocument(clientId: string, body: unknown): ClientMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('it is not a JSON object');
  // NUL, lone surrogates or deep nesting anywhere (even in an ignored field): PostgreSQL cannot store it.
  const hostile = hostileValueReason(body);
  if (hostile) throw invalid(`it ${hostile}`);
  const refused = REFUSED_FIELDS.filter((field) => field in body);
  if (refused.length > 0) throw invalid(`it must not contain ${refused.join(', ')}`);
  const parsed = documentSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`its ${issue.path.map(String).join('.').replace(/\.(\d+)/g, '[$1]')} ${issue.message}`);
  }
  const document = parsed.data;
  // The document speaks for the URL it was fetched from, and no other (CIMD draft §3; MCP 2025-11-25).
  if (document.client_id !== clientId) throw invalid('its client_id does not equal the URL it was fetched from');

  // Redirect URIs follow the rules registered clients follow, for the application type the document
  // names or, like self-registration, the one its redirect URIs imply (RFC 8252 §7).
  const applicationType = document.application_type ?? inferApplicationType(document.redirect_uris);
  for (const [field, uris] of [['redirect_uris', document.redirect_uris], ['post_logout_redirect_uris', document.post_logout_redirect_uris ?? []]] as const) {
    uris.forEach((uri, index) => {
      const problem = redirectUriProblem(uri, applicationType);
      if (problem) throw invalid(`its ${field}[${index}] ${problem}`);
    });
  }

  const authMethod = chooseAuthMethod(document);
  if (authMethod === 'private_key_jwt' && !document.jwks && !document.jwks_uri) {
    throw invalid('its token_endpoint_auth_method is private_key_jwt but it carries no jwks or jwks_uri');
  }
  // Like oidc-provider's own CIMD support: values we do not serve are dropped, not fatal, unless none is left.
  const grantTypes = (document.grant_types ?? ['authorization_code', 'refresh_token']).filter((type) => SUPPORTED_GRANT_TYPES.has(type));
  if (!grantTypes.includes('authorization_code')) throw invalid('its grant_types do not include authorization_code');
  if (document.response_types && !document.response_types.includes('code')) throw invalid('its response_types do not include code');

  const metadata: ClientMetadata = {
    client_id: clientId,
    client_name: document.client_name,
    redirect_uris: document.redirect_uris,
    grant_types: grantTypes,
    response_types: ['code'],
    token_endpoint_auth_method: authMethod,
    portcullis_source: 'client_id_metadata_document',
  };
  for (const field of ['post_logout_redirect_uris', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const) {
    if (document[field] !== undefined) metadata[field] = document[field];
  }
  if (authMethod === 'private_key_jwt') {
    if (document.jwks) metadata.jwks = document.jwks;
    else metadata.jwks_uri = document.jwks_uri;
    if (document.token_endpoint_auth_signing_alg) metadata.token_endpoint_auth_signing_alg = document.token_endpoint_auth_signing_alg;
  }
  // A native app may use any port on its loopback redirect URIs (RFC 8252 §7.3); NATIVE_CLIENT_CONSENT
  // decides whether it is asked for consent every time (RFC 8252 §8.6).
  metadata.application_type = applicationType;
  return metadata;
}
