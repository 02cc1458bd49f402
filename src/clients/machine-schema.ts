// What an operator registers as a machine client (MCP ext-auth OAuth Client Credentials, SEP-1046): one
// resource, the scopes allowed there, and its credential: a JWKS of public keys (private_key_jwt) or a secret.
import { z } from 'zod';
import { hostileStringReason, hostileValueReason } from '../input/hostile-values.ts';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';

/**
 * The JWS algorithms a machine client may sign its client assertion with (RFC 7523 §2.2): asymmetric
 * only, since client_secret_jwt is not offered (a shared secret is sent as client_secret_basic/post).
 * provider.ts advertises exactly these as token_endpoint_auth_signing_alg_values_supported.
 */
export const CLIENT_ASSERTION_ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'] as const;

/**
 * A machine client with keys signs assertions (private_key_jwt); one without is registered as
 * client_secret_basic, and oidc-provider takes its secret in the Basic header or in the form body
 * (client_secret_post, the extension's example) alike.
 */
export type MachineAuthMethod = 'client_secret_basic' | 'private_key_jwt';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const BASE64URL = /^[A-Za-z0-9_-]{1,2048}$/;
const noHostile = (value: string) => hostileStringReason(value) === undefined;
const b64 = z.string().regex(BASE64URL, 'must be base64url');
// RFC 6749 §3.3 scope-token, as resources declare them (src/resources/schema.ts).
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, 'a scope is 1–128 printable characters without spaces, quotes or backslashes');

/**
 * One public signing key. Private members are refused by name before anything is kept (a pasted private
 * key must not be stored, even to be ignored); members we do not use are dropped, so nothing odd reaches jsonb.
 */
const publicSigningJwk = z.record(z.string(), z.unknown()).superRefine((key, ctx) => {
  const found = PRIVATE_MEMBERS.filter((member) => member in key);
  if (found.length > 0) {
    ctx.addIssue({ code: 'custom', message: `a JWKS must hold public keys only: this key has private member${found.length > 1 ? 's' : ''} ${found.join(', ')}; publish its public half` });
  }
}).pipe(z.object({
  kty: z.enum(['EC', 'OKP', 'RSA'], 'kty must be EC, OKP or RSA (symmetric keys are refused)'),
  kid: z.string().min(1).max(200).refine(noHostile, 'kid must be printable text').optional(),
  alg: z.enum(CLIENT_ASSERTION_ALGS, `alg must be one of ${CLIENT_ASSERTION_ALGS.join(', ')}`).optional(),
  use: z.literal('sig', 'use must be sig').optional(),
  crv: z.enum(['P-256', 'P-384', 'P-521', 'Ed25519'], 'crv must be P-256, P-384, P-521 or Ed25519').optional(),
  x: b64.optional(), y: b64.optional(), n: b64.optional(), e: b64.optional(),
}));

export const machineJwksSchema = z.object({ keys: z.array(publicSigningJwk).min(1, 'the JWKS holds no key').max(20, 'at most 20 keys') })
  .refine((jwks) => new Set(jwks.keys.map((key) => key.kid ?? '')).size === jwks.keys.length, 'each key needs a distinct kid');
export type MachineJwks = z.infer<typeof machineJwksSchema>;

// oidc-provider fetches it through src/cimd/provider-fetch.ts, under the metadata documents' rules: https
// only, public addresses (loopback only with CIMD_ALLOW_LOOPBACK, for development), no redirects, 64 KiB.
const jwksUriSchema = z.string().max(2048).refine(noHostile, 'must be printable text').superRefine((value, ctx) => {
  const url = URL.parse(value);
  if (!url) { ctx.addIssue({ code: 'custom', message: `jwks_uri ${value.slice(0, 200)} is not a URL` }); return; }
  if (url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'jwks_uri must be an https URL' });
  if (url.hash !== '' || url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', message: 'jwks_uri must have no fragment and no credentials' });
});

export const newMachineClientSchema = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200).refine(noHostile, 'name must be printable text'),
  resource: z.string().max(2048).transform((value, ctx) => {
    const canonical = tryCanonicalResourceUri(value);
    if (!canonical) ctx.addIssue({ code: 'custom', message: 'resource must be an absolute https (or loopback http) URI' });
    return canonical ?? z.NEVER;
  }),
  scopes: z.array(scopeToken).min(1, 'allow at least one scope (--scope S)').max(100)
    .refine((scopes) => new Set(scopes).size === scopes.length, 'scopes must be unique'),
  /** Irreversible scopes of the resource may be among `scopes` only with this (--allow-irreversible). */
  allowIrreversible: z.boolean().default(false),
  jwksUri: jwksUriSchema.optional(),
  jwks: z.unknown().superRefine((value, ctx) => {
    const reason = hostileValueReason(value);
    if (reason) ctx.addIssue({ code: 'custom', message: `the JWKS ${reason}` });
  }).pipe(machineJwksSchema).optional(),
}).refine((input) => !(input.jwks && input.jwksUri), 'give at most one of a JWKS URL and a JWKS document');
export type NewMachineClient = z.input<typeof newMachineClientSchema>;
export type ParsedMachineClient = z.output<typeof newMachineClientSchema>;

/** What a machine client is bound to, as stored in machine_clients (0020). */
export interface MachineBinding {
  clientId: string;
  resource: string;
  scopes: string[];
  allowIrreversible: boolean;
}
