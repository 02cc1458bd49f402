// What an operator-registered client is, and how a stored client payload is read back for display.
// Redirect URIs follow the same rules as self-registration (redirect-uri-rules.ts).
import { z } from 'zod';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';
import { redirectUriProblem } from './redirect-uri-rules.ts';

// The same redirect URI rules as self-registration (registration-policy.ts): an operator typo should
// not open a hole an attacker could not open themselves. OAuth 2.1 §2.3.1, RFC 8252 §7.3.
const redirectUriSchema = z.string().superRefine((uri, ctx) => {
  const problem = redirectUriProblem(uri);
  if (problem) ctx.addIssue({ code: 'custom', message: `redirect URI ${uri}: ${problem}` });
});

export const newOperatorClientSchema = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200),
  redirectUris: z.array(redirectUriSchema).min(1, 'declare at least one redirect URI')
    .refine((uris) => new Set(uris).size === uris.length, 'redirect URIs must be unique'),
  confidential: z.boolean().default(false),
});
export type NewOperatorClient = z.input<typeof newOperatorClientSchema>;

// A resource server (an MCP server in introspection mode) that only calls the introspection endpoint
// (RFC 7662 §2.1 requires the caller to authenticate): no redirect URIs, no grants, a client secret.
// It is bound to its one resource: it may introspect that resource's access tokens and nothing else
// (src/oidc/introspection-policy.ts).
export const newIntrospectionClientSchema = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200),
  resource: z.string().transform((value, ctx) => {
    const canonical = tryCanonicalResourceUri(value);
    if (!canonical) ctx.addIssue({ code: 'custom', message: 'resource must be an absolute https (or loopback http) URI' });
    return canonical ?? z.NEVER;
  }),
});
export type NewIntrospectionClient = z.input<typeof newIntrospectionClientSchema>;

/** What callers may see of a client; the secret digest never leaves this file. */
export interface Client {
  clientId: string;
  name: string | undefined;
  redirectUris: string[];
  /** token_endpoint_auth_method; 'none' is a public client. */
  authMethod: string;
  /** 'operator' (CLI), 'dynamic_registration' (RFC 7591), or undefined for older rows. */
  source: string | undefined;
  issuedAt: Date | undefined;
}

// The payload is JSON written by us or by oidc-provider: parse what we show, let the rest pass.
// The default auth method matches clientDefaults in provider.ts.
const storedClientSchema = z.object({
  client_id: z.string(),
  client_name: z.string().optional(),
  redirect_uris: z.array(z.string()).default([]),
  token_endpoint_auth_method: z.string().default('none'),
  portcullis_source: z.string().optional(),
  client_id_issued_at: z.number().optional(),
});

export function toClient(payload: unknown): Client {
  const stored = storedClientSchema.parse(payload);
  return {
    clientId: stored.client_id,
    name: stored.client_name,
    redirectUris: stored.redirect_uris,
    authMethod: stored.token_endpoint_auth_method,
    source: stored.portcullis_source,
    issuedAt: stored.client_id_issued_at === undefined ? undefined : new Date(stored.client_id_issued_at * 1000),
  };
}

