// Rules for dynamic client registration (RFC 7591) on top of oidc-provider's own validation:
// public clients only, https or loopback redirect URIs, and MCP clients' `scope` field accepted.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { isNativeLoopbackClient, redirectUriProblem } from '../clients/redirect-uri-rules.ts';

function assertAllowedRedirectUri(uri: unknown): void {
  const problem = redirectUriProblem(uri);
  if (problem) throw new errors.InvalidRedirectUri(`redirect_uris ${problem}`);
}

type Metadata = Record<string, unknown>;

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
  if (metadata.token_endpoint_auth_method !== 'none') {
    throw new errors.InvalidClientMetadata('only public clients may self-register: token_endpoint_auth_method must be none');
  }
  const redirectUris = Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris : [];
  redirectUris.forEach(assertAllowedRedirectUri);
  // MCP clients send the protected resource's scopes_supported as `scope`. We accept it but do not
  // keep it: the resource's own scope list decides what may be asked for, request by request.
  delete metadata.scope;
  // A client that registers only loopback redirect URIs and names no application_type is a native
  // app: it may use any port on them (RFC 8252 §7.3), which oidc-provider grants native clients.
  const body = ctx?.oidc?.body as Metadata | undefined;
  if (body?.application_type === undefined && isNativeLoopbackClient(redirectUris)) {
    metadata.application_type = 'native';
  }
}
