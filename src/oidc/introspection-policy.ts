// Who may introspect which token (RFC 7662 §4: the server decides what a caller may learn). An MCP
// server's introspection client is bound to its one resource and sees only that resource's access
// tokens; every other confidential client sees only its own tokens, a public one none. oidc-provider's
// default lets any confidential client introspect any token, refresh tokens of other clients included.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';

/** Client metadata naming the one resource an introspection client serves (set by the operator CLI). */
export const INTROSPECTS_METADATA = 'portcullis_introspects';

interface IntrospectedToken { kind: string; clientId?: string; aud?: unknown }
interface IntrospectingClient { clientId: string; clientAuthMethod?: string; metadata(): Record<string, unknown> }

export function introspectionAllowed(_ctx: KoaContextWithOIDC, client: IntrospectingClient, token: IntrospectedToken): boolean {
  // A public client proves nothing (RFC 7662 §2.1); introspection-endpoint.ts answers it 401 anyway.
  if (client.clientAuthMethod === 'none') return false;
  const bound = client.metadata()[INTROSPECTS_METADATA];
  if (typeof bound === 'string') {
    const audience = typeof token.aud === 'string' ? token.aud : undefined;
    // A machine client's opaque token (client_credentials) is an access token for the resource too.
    return (token.kind === 'AccessToken' || token.kind === 'ClientCredentials') && audience !== undefined
      && tryCanonicalResourceUri(audience) === tryCanonicalResourceUri(bound);
  }
  return token.clientId === client.clientId;
}

type MetadataValidator = (ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: Record<string, unknown>) => void;

/** Only the operator binds a client to a resource: self-registration that sets it is refused. */
export function refusingSelfRegisteredBinding(validator: MetadataValidator): MetadataValidator {
  return (ctx, key, value, metadata) => {
    if (key === INTROSPECTS_METADATA) {
      if (value !== undefined && ctx?.oidc?.route === 'registration') {
        throw new errors.InvalidClientMetadata(`${INTROSPECTS_METADATA} cannot be self-registered`);
      }
      return;
    }
    validator(ctx, key, value, metadata);
  };
}
