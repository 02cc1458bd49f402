// Input rules for trusted ID-JAG issuers (MCP ext-auth Enterprise-Managed Authorization): the issuer URL,
// exactly one key source (a JWKS URL or a JWKS document of public asymmetric keys), checked before any query.
import { z } from 'zod';

import { hostileStringReason } from '../input/hostile-values.ts';

const STORABLE = (value: string) => hostileStringReason(value) === undefined;
const STORABLE_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/** An identifier (client id, subject, account id) PostgreSQL can store: 1–`max` characters, no NUL. */
export const storableId = (max: number) => z.string().min(1).max(max).refine(STORABLE, STORABLE_MESSAGE);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http only for a loopback host (a development identity provider); no fragment, no credentials. */
export const idJagUrl = z.string().trim().max(2048).refine(STORABLE, STORABLE_MESSAGE).superRefine((value, ctx) => {
  let url: URL;
  try { url = new URL(value); } catch { ctx.addIssue({ code: 'custom', message: `${value} is not a URL` }); return; }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: `${value} must be an https URL (http only on a loopback host)` });
  }
  if (url.hash !== '' || url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: `${value} must have no fragment and no credentials` });
  }
});

// Asymmetric public keys only (RFC 8725 §3.1: no shared secrets for a third party's assertions).
const publicJwk = z.object({
  kty: z.enum(['RSA', 'EC', 'OKP']),
  kid: z.string().max(200).optional(),
  alg: z.string().max(20).optional(),
}).passthrough().refine((key) => !('d' in key) && !('p' in key) && !('k' in key), 'a JWKS must hold public keys only');

export const idJagJwks = z.object({ keys: z.array(publicJwk).min(1).max(50) }).strict();

export const idJagIssuerInput = z.object({
  issuer: idJagUrl,
  jwksUri: idJagUrl.optional(),
  jwks: idJagJwks.optional(),
}).refine((input) => (input.jwksUri === undefined) !== (input.jwks === undefined), 'give exactly one of --jwks-uri and --jwks');

export type IdJagIssuerInput = z.infer<typeof idJagIssuerInput>;

/** RFC 7523 §2.1's grant type, the one the extension's access token request uses (§5). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The grant profile an authorization server advertises in `authorization_grant_profiles_supported`. */
export const ID_JAG_GRANT_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
