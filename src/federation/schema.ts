// What an operator may configure for an identity provider (zod): bounded sizes, no control characters
// (NUL included), an https issuer (http only on loopback, for a provider on this machine) and claim names.
import { z } from 'zod';
import { normaliseHost } from '../cimd/host-name.ts';
import { PRESETS } from './presets.ts';

// C0 controls, DEL and C1 controls: a NUL cannot be stored in PostgreSQL text and none belongs in a setting.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const text = (max: number, what: string) =>
  z.string().trim().min(1, `give ${what}`).max(max, `${what} is longer than ${max} characters`)
    .refine((value) => !CONTROL.test(value), `${what} contains a control character`);

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

export const providerName = z.string().trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a name is 1-63 lowercase letters, digits and dashes, starting with a letter or digit');

/** OIDC Discovery 1.0 §3: an https URL with no query or fragment. */
export const issuerUrl = text(2000, 'the issuer').transform((value, context) => {
  let url: URL;
  try { url = new URL(value); } catch {
    context.addIssue({ code: 'custom', message: 'the issuer is not a URL' });
    return z.NEVER;
  }
  const loopback = LOOPBACK.has(url.hostname.replace(/^\[|\]$/g, ''));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    context.addIssue({ code: 'custom', message: 'the issuer must be an https URL (http only on loopback)' });
    return z.NEVER;
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    context.addIssue({ code: 'custom', message: 'the issuer has no query, fragment or credentials' });
    return z.NEVER;
  }
  // Kept exactly as given: discovery compares it character for character (a trailing slash matters).
  return value;
});

/** An email domain, in the one comparable form (src/cimd/host-name.ts); IP literals are no domain. */
export const emailDomain = text(253, 'the domain').transform((value, context) => {
  const host = normaliseHost(value);
  if (host === undefined || !host.includes('.') || /^[\d.]+$/.test(host) || host.includes(':')) {
    context.addIssue({ code: 'custom', message: `${value} is not an email domain` });
    return z.NEVER;
  }
  return host;
});

const claimName = text(100, 'the claim name');
const scope = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/, 'a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)');

export const addProviderInput = z.object({
  name: providerName,
  displayName: text(100, 'the display name').optional(),
  preset: z.enum(PRESETS, { message: `the preset is one of ${PRESETS.join(', ')}` }).optional(),
  issuer: issuerUrl.optional(),
  tenant: text(200, 'the tenant').optional(),
  clientId: text(500, 'the client id'),
  clientSecret: text(2000, 'the client secret'),
  domains: z.array(emailDomain).max(100, 'at most 100 domains').default([]),
  scopes: z.array(scope).max(50, 'at most 50 scopes').optional(),
  emailClaim: claimName.optional(),
  groupsClaim: claimName.optional(),
  createAccounts: z.boolean().default(true),
  ssoOnly: z.boolean().default(false),
  idJag: z.boolean().default(false),
});
export type AddProviderInput = z.input<typeof addProviderInput>;

export const updateProviderInput = addProviderInput.partial().omit({ name: true }).extend({
  name: providerName,
  domains: z.array(emailDomain).max(100).optional(),
  createAccounts: z.boolean().optional(),
  ssoOnly: z.boolean().optional(),
  idJag: z.boolean().optional(),
  disabled: z.boolean().optional(),
  // With disabled: what happens to the people who signed in with it (issue 12: "per the operator's choice").
  endSessions: z.boolean().optional(),
  endGrants: z.boolean().optional(),
});
export type UpdateProviderInput = z.input<typeof updateProviderInput>;
