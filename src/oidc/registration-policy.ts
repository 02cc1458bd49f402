// Rules for dynamic client registration (RFC 7591) on top of oidc-provider's own validation: public
// clients unless the initial access token is presented, redirect URIs fit for the application type, a size cap.
import { createHash, timingSafeEqual } from 'node:crypto';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { inferApplicationType, redirectUriProblem, type ApplicationType } from '../clients/redirect-uri-rules.ts';

type Metadata = Record<string, unknown>;

/** The largest registration request we keep, as JSON: ample for any honest client's metadata. */
export const MAX_REGISTRATION_METADATA_BYTES = 8 * 1024;

const FETCHED_OR_KEY_METADATA = [
  'sector_identifier_uri', 'jwks_uri', 'jwks', 'request_uris', 'client_secret',
  'id_token_encrypted_response_alg', 'introspection_encrypted_response_alg', 'authorization_encrypted_response_alg',
];

export interface RegistrationPolicyOptions {
  /** REGISTRATION_INITIAL_ACCESS_TOKEN: presented as a Bearer token, it lets a confidential client register. */
  initialAccessToken: string | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether this registration carries the initial access token (RFC 7591 §3). Open registration stays
 * on for public clients (MCP clients need it), so a request without a token is merely untrusted; one
 * with a wrong token is refused outright (invalid_token), so a typo is noticed rather than downgraded.
 */
function presentsInitialAccessToken(ctx: KoaContextWithOIDC, configured: string | undefined): boolean {
  if (configured === undefined || !ctx.headers.authorization) return false;
  const presented = ctx.oidc.getAccessToken();
  if (!timingSafeEqual(digest(presented), digest(configured))) throw new errors.InvalidToken('invalid initial access token');
  return true;
}

function applicationTypeOf(body: Metadata, redirectUris: unknown[]): ApplicationType {
  const declared = body.application_type;
  if (declared === undefined) return inferApplicationType(redirectUris);
  if (declared !== 'web' && declared !== 'native') throw new errors.InvalidClientMetadata('application_type must be "web" or "native"');
  return declared;
}

function assertRedirectUris(uris: unknown[], applicationType: ApplicationType, field: string): void {
  for (const uri of uris) {
    const problem = redirectUriProblem(uri, applicationType);
    // oidc-provider's InvalidRedirectUri carries a fixed description meant for authorization requests;
    // a registering client needs to know which URI and why (SEP-837 clients retry with another type).
    if (problem) throw Object.assign(new errors.InvalidRedirectUri(), { error_description: `${field} ${JSON.stringify(uri)} ${problem}` });
  }
}

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/**
 * oidc-provider's `extraClientMetadata.validator`: runs synchronously on every client's metadata.
 * Our rules apply to self-registration only (route `registration`; updates, route `client_update`, are
 * refused); operator-registered clients were checked by the CLI. Keyed on oidc-provider's route name, so
 * no spelling of the path changes which rules apply.
 */
export function createRegistrationValidator(options: RegistrationPolicyOptions) {
  return function validateRegistrationMetadata(ctx: KoaContextWithOIDC | undefined, key: string, _value: unknown, metadata: Metadata): void {
    if (key !== 'portcullis_source') return;
    const route = ctx?.oidc?.route;
    // RFC 7592 §2.2 update would take metadata from the request outside the rules below (and keep a
    // `portcullis_source: operator` it names): refused here too, not only in src/http/registration-gate.ts.
    if (route === 'client_update') {
      throw new errors.InvalidRequest('client metadata cannot be updated; register a new client instead', 403);
    }
    if (route !== 'registration' || !ctx) {
      metadata.portcullis_source ??= 'operator';
      return;
    }
    metadata.portcullis_source = 'dynamic_registration';
    const body = (ctx.oidc.body ?? {}) as Metadata;
    if (Buffer.byteLength(JSON.stringify(body)) > MAX_REGISTRATION_METADATA_BYTES) {
      throw new errors.InvalidClientMetadata(`client metadata must not exceed ${MAX_REGISTRATION_METADATA_BYTES} bytes`);
    }
    // MCP ext-auth SEP-1046: client credentials are for pre-registered clients, never dynamic registration;
    // a machine client is bound to one resource by the operator (client add --machine), trusted or not.
    if (listOf(metadata.grant_types).includes('client_credentials')) {
      throw new errors.InvalidClientMetadata('grant type client_credentials is only for machine clients an operator registers (client add --machine)');
    }
    const trusted = presentsInitialAccessToken(ctx, options.initialAccessToken);
    if (metadata.token_endpoint_auth_method !== 'none' && !trusted) {
      throw new errors.InvalidClientMetadata('only public clients may self-register: token_endpoint_auth_method must be none'
        + (options.initialAccessToken === undefined ? '' : ' (a confidential client must present the initial access token)'));
    }
    // Metadata that makes the server fetch a URL the registrant chose (sector_identifier_uri is fetched
    // during registration itself) or that needs key management we do not offer: refused, never fetched (SSRF).
    const refused = FETCHED_OR_KEY_METADATA.filter((name) => body[name] !== undefined);
    if (refused.length > 0) throw new errors.InvalidClientMetadata(`${refused.join(', ')} cannot be self-registered`);

    // RFC 8252 §7: loopback http (any port) and private-use schemes only for native apps; web clients use
    // https. A client that names no application_type is native when its redirect URIs say so.
    const redirectUris = listOf(metadata.redirect_uris);
    const applicationType = applicationTypeOf(body, redirectUris);
    metadata.application_type = applicationType;
    assertRedirectUris(redirectUris, applicationType, 'redirect_uris');
    // Sign-out redirects follow the same rules: they, too, send a browser where the registrant says.
    assertRedirectUris(listOf(metadata.post_logout_redirect_uris), applicationType, 'post_logout_redirect_uris');
    // MCP clients send the protected resource's scopes_supported as `scope`. We accept it but do not
    // keep it: the resource's own scope list decides what may be asked for, request by request.
    delete metadata.scope;
  };
}
