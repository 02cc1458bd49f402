// The RFC 9728 protected resource metadata document for one resource, and the framework-free answer
// to a request for it (path-inserted well-known URL, and the root one when configured).
import { protectedResourceMetadataPath } from './resource-uri.ts';
import type { ResolvedOptions } from './options.ts';

/** The RFC 9728 protected resource metadata document this resource serves. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: ['header'];
  scopes_supported?: string[];
  resource_name?: string;
  /** RFC 9728 §2: the DPoP proof algorithms this resource accepts. */
  dpop_signing_alg_values_supported: string[];
  /** RFC 9728 §2: present (true) when this resource accepts only DPoP-bound tokens. */
  dpop_bound_access_tokens_required?: true;
}

/** An HTTP answer to a request for the metadata document (200, a CORS preflight 204, or 405). */
export interface MetadataResponse {
  status: 200 | 204 | 405;
  headers: Record<string, string>;
  body: string | undefined;
}

export function protectedResourceMetadata(options: ResolvedOptions): ProtectedResourceMetadata {
  return {
    resource: options.resource,
    authorization_servers: [options.issuer],
    // Only the header: tokens in the query string or body are refused (MCP §Token Requirements).
    bearer_methods_supported: ['header'],
    ...(options.scopesSupported && { scopes_supported: options.scopesSupported }),
    ...(options.resourceName !== undefined && { resource_name: options.resourceName }),
    dpop_signing_alg_values_supported: [...options.dpop.algorithms],
    ...(options.dpop.required && { dpop_bound_access_tokens_required: true as const }),
  };
}

/** The paths this resource's metadata is served at. */
export function metadataPaths(options: ResolvedOptions): string[] {
  const paths = [protectedResourceMetadataPath(options.resource)];
  if (options.serveRootMetadata && paths[0] !== '/.well-known/oauth-protected-resource') paths.push('/.well-known/oauth-protected-resource');
  return paths;
}

// The document is public and browser-based MCP clients fetch it cross-origin: allow any origin, no credentials.
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': '*',
};

/**
 * The answer for `method pathname` if it asks for the metadata; undefined lets the request through.
 * `pathname` is the request target without its query.
 */
export function metadataResponse(options: ResolvedOptions, method: string, pathname: string): MetadataResponse | undefined {
  if (!metadataPaths(options).includes(pathname)) return undefined;
  if (method === 'OPTIONS') return { status: 204, headers: CORS, body: undefined };
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: { ...CORS, Allow: 'GET, HEAD, OPTIONS' }, body: undefined };
  const body = JSON.stringify(protectedResourceMetadata(options));
  return {
    status: 200,
    headers: { ...CORS, 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
    body: method === 'HEAD' ? undefined : body,
  };
}
