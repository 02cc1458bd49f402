// What a registered resource (an MCP server) is: its URI, name, scopes with risk classes and token TTL.
// Validated with zod by the resources service (service.ts), whichever front end the resource came from.
import { z } from 'zod';
import { canonicalResourceUri, InvalidResourceUriError } from './canonical-uri.ts';

export const riskClasses = ['read', 'write', 'irreversible'] as const;
export type Risk = (typeof riskClasses)[number];

// 'jwt' tokens are verified by the MCP server alone; 'opaque' ones only through introspection (RFC
// 7662), which also lets a revoked grant stop working before its access tokens expire.
export const accessTokenFormats = ['jwt', 'opaque'] as const;
export type AccessTokenFormat = (typeof accessTokenFormats)[number];

// DPoP (RFC 9449): 'required' issues tokens for the resource only when the token request carries a DPoP
// proof, so each is bound to the client's key (cnf.jkt) and useless to whoever copies it (migration 0021).
export const dpopModes = ['allowed', 'required'] as const;
export type DpopMode = (typeof dpopModes)[number];

/**
 * The shortest access-token lifetime anyone may configure. MCP clients (mcp-remote among them) treat a
 * token with 60 s or less left as expired and refresh before each request: a shorter lifetime would
 * make them refresh on every call. 120 s leaves a minute of use past that margin (migration 0015).
 */
export const MIN_ACCESS_TOKEN_TTL_SECONDS = 120;

// RFC 6749 §3.3 scope-token: printable ASCII except space, double quote and backslash.
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, 'a scope is 1–128 printable characters without spaces, quotes or backslashes');

export const resourceScopeSchema = z.object({
  scope: scopeToken.refine((s) => s !== 'openid' && s !== 'offline_access', 'openid and offline_access are reserved'),
  risk: z.enum(riskClasses),
  description: z.string().max(500).default(''),
});

const resourceUriSchema = z.string().transform((value, ctx) => {
  try {
    return canonicalResourceUri(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof InvalidResourceUriError ? error.message : 'invalid URI' });
    return z.NEVER;
  }
});

const clientIdsSchema = z.array(z.string().trim().min(1).max(2048)).max(500)
  .refine((ids) => new Set(ids).size === ids.length, 'each client may be listed once');

/** What an operator may set on a resource; the URI is its identity (the tokens' audience) and never changes. */
export const resourceSettingsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  scopes: z.array(resourceScopeSchema).min(1, 'declare at least one scope').max(100)
    .refine((scopes) => new Set(scopes.map((s) => s.scope)).size === scopes.length, 'scopes must be unique'),
  /** Absent: ACCESS_TOKEN_TTL_SECONDS for a new resource, the current lifetime for an edit. */
  accessTokenTtlSeconds: z.number().int().min(MIN_ACCESS_TOKEN_TTL_SECONDS).max(3600).optional(),
  accessTokenFormat: z.enum(accessTokenFormats).default('jwt'),
  /** Absent: 'allowed' for a new resource, the current setting for an edit. */
  dpop: z.enum(dpopModes).optional(),
  /** null: any client; a list: only these clients may obtain tokens for the resource. */
  allowedClientIds: clientIdsSchema.nullable().default(null),
});
export type ResourceSettingsInput = z.input<typeof resourceSettingsSchema>;

/** A resource to register: its settings and its URI, stored canonical (src/resources/canonical-uri.ts). */
export const newResourceSchema = resourceSettingsSchema.extend({ uri: resourceUriSchema });

export type NewResource = z.input<typeof newResourceSchema>;
export type ResourceScope = z.infer<typeof resourceScopeSchema>;

export interface Resource {
  uri: string;
  name: string;
  accessTokenTtlSeconds: number;
  accessTokenFormat: AccessTokenFormat;
  /** 'required': tokens only for DPoP token requests, bound to the client's key (0021). */
  dpop: DpopMode;
  scopes: ResourceScope[];
  /** Disabled by an operator: no token names it (invalid_target) until enabled again. */
  disabled: boolean;
  /** The only clients that may get tokens for it; null when any client may (0008). */
  allowedClientIds: string[] | null;
}
