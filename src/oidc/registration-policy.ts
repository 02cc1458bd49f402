// Rules for dynamic client registration (RFC 7591) on top of oidc-provider's own validation:
// public clients only, https or loopback redirect URIs, and MCP clients' `scope` field accepted.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { isNativeLoopbackClient, redirectUriProblem } from '../clients/redirect-uri-rules.ts';

function assertAllowedRedirectUri(uri: unknown): void {
  const problem = redirectUriProblem(uri);
  if (problem) throw new errors.InvalidRedirectUri(`redirect_uris ${problem}`);
}

type Metadata = Record<string, unknown>;

const FETCHED_OR_CONFIDENTIAL_METADATA = [
  'sector_identifier_uri', 'jwks_uri', 'jwks', 'request_uris', 'client_secret',
  'id_token_encrypted_response_alg', 'introspection_encrypted_response_alg', 'authorization_encrypted_response_alg',
];

/**
 * oidc-provider's `extraClientMetadata.validator`: runs synchronously on every client's metadata.
 * Our rules apply to self-registration only (route `registration`); operator-registered clients
 * were checked by the CLI.
 */
export function validateRegistrationMetadata(ctx: KoaContextWithOIDC | undefined, key: string, _value: unknown, metadata: Metadata): void {
  if (key !== 'portcullis_source') return;
  const route = ctx?.oidc?.route;
  if (route !== 'registration') {
    metadata.portcullis_source ??= 'operator';
    return;
  }
  metadata.portcullis_source = 'dynamic_registration';
  const body = ctx?.oidc?.body as Metadata | undefined;
  if (metadata.token_endpoint_auth_method !== 'none') {
    throw new errors.InvalidClientMetadata('only public clients may self-register: token_endpoint_auth_method must be none');
  }
  // Metadata that makes the server fetch a URL the registrant chose (sector_identifier_uri is fetched
  // during registration itself) or that only confidential clients use: refused, never fetched (SSRF).
  const refused = FETCHED_OR_CONFIDENTIAL_METADATA.filter((name) => body?.[name] !== undefined);
  if (refused.length > 0) {
    throw new errors.InvalidClientMetadata(`${refused.join(', ')} cannot be self-registered: public clients only`);
  }
  const redirectUris = Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris : [];
  redirectUris.forEach(assertAllowedRedirectUri);
  // Sign-out redirects follow the same rules: they, too, send a browser where the registrant says.
  const postLogoutRedirectUris = Array.isArray(metadata.post_logout_redirect_uris) ? metadata.post_logout_redirect_uris : [];
  postLogoutRedirectUris.forEach(assertAllowedRedirectUri);
  // MCP clients send the protected resource's scopes_supported as `scope`. We accept it but do not
  // keep it: the resource's own scope list decides what may be asked for, request by request.
  delete metadata.scope;
  // A client that registers only loopback redirect URIs and names no application_type is a native
  // app: it may use any port on them (RFC 8252 §7.3), which oidc-provider grants native clients.
  if (body?.application_type === undefined && isNativeLoopbackClient(redirectUris)) {
    metadata.application_type = 'native';
  }
}
