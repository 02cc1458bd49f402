// What an operator may write as a policy (zod): a registered resource's URI, one CLAIM=VALUE pair (bounded,
// no control characters, `domain` values in the one host form) and a max risk from the resources' classes.
import { z } from 'zod';
import { canonicalResourceUri, InvalidResourceUriError } from '../resources/canonical-uri.ts';
import { riskClasses } from '../resources/schema.ts';
import { emailDomain } from '../federation/schema.ts';

// C0 controls, DEL and C1 controls: a NUL cannot be stored in PostgreSQL text and none belongs in a rule.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The claim that is no upstream claim: the account's email domain (src/policies/evaluate.ts). */
export const DOMAIN_CLAIM = 'domain';
/** The normalised group list the sign-in flow stores whatever the provider's groups claim is called. */
export const GROUPS_CLAIM = 'groups';

export const policyId = z.string().regex(/^pol_[0-9a-f]{16}$/, 'a policy id is pol_ and 16 hex digits, as `policy add` and `policy list` print it');

// The WHATWG URL parser would quietly strip a trailing NUL or other control character: refused first instead.
const resourceUri = z.string().max(2048, 'the resource URI is longer than 2048 characters')
  .refine((value) => !CONTROL.test(value), 'the resource URI contains a control character').transform((value, context) => {
  try {
    return canonicalResourceUri(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: error instanceof InvalidResourceUriError ? error.message : 'not a resource URI' });
    return z.NEVER;
  }
});

// A claim name as OIDC claims are spelt (letters, digits, `_ - . : /`, so URL-named claims fit), never `=`.
const claimName = z.string().regex(/^[A-Za-z0-9_.:/-]{1,100}$/, 'a claim name is 1-100 letters, digits and _ - . : / (then =VALUE)');
const claimValue = z.string().trim().min(1, 'give a value after =').max(256, 'the claim value is longer than 256 characters')
  .refine((value) => !CONTROL.test(value), 'the claim value contains a control character');

/** `CLAIM=VALUE`, split at the first `=`: values may contain one, names never do. */
export const claimPair = z.string().max(400, 'the claim is longer than 400 characters').transform((text, context) => {
  const at = text.indexOf('=');
  if (at <= 0) {
    context.addIssue({ code: 'custom', message: 'write the claim as CLAIM=VALUE, e.g. groups=ops or domain=example.com' });
    return z.NEVER;
  }
  const name = claimName.safeParse(text.slice(0, at));
  const value = (text.slice(0, at) === DOMAIN_CLAIM ? emailDomain : claimValue).safeParse(text.slice(at + 1));
  for (const result of [name, value]) {
    if (!result.success) {
      for (const issue of result.error.issues) context.addIssue({ code: 'custom', message: issue.message });
      return z.NEVER;
    }
  }
  return { claim: name.data!, value: value.data! };
});

export const addPolicyInput = z.object({
  resource: resourceUri,
  claim: claimPair,
  maxRisk: z.enum(riskClasses, { message: `the max risk is one of ${riskClasses.join(', ')}` }),
});
export type AddPolicyInput = z.input<typeof addPolicyInput>;
