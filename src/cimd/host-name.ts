// The one normaliser for host names we compare (the metadata-document domain policy, its fetch budgets):
// case, a trailing dot and Unicode (IDN) spellings of one name all become the same ASCII name.
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * The comparable form of a host: lowercase, no trailing dot (the root label, RFC 1034 §3.1: `example.com.`
 * is `example.com`), IDN labels as punycode A-labels (UTS #46 via WHATWG URL, as browsers and fetch do).
 * IP literals keep their text without brackets. undefined for anything that is not a host name.
 */
export function normaliseHost(host: string): string | undefined {
  const trimmed = host.trim().replace(/^\[|\]$/g, '');
  if (isIP(trimmed)) return trimmed.toLowerCase();
  const withoutRootDot = trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
  const ascii = domainToASCII(withoutRootDot);
  // An empty label (`a..b`, `.a`, `a..`) names no host; refusing it means no spelling slips past a rule.
  return ascii === '' || ascii.split('.').some((label) => label === '') ? undefined : ascii;
}

/** Whether two spellings name the same host. */
export const sameHost = (a: string, b: string): boolean => {
  const left = normaliseHost(a);
  return left !== undefined && left === normaliseHost(b);
};

/**
 * The domain of an email address in the same comparable form (identity_provider_domains holds domains in
 * it): what follows the last `@`. undefined when there is no `@` or no host name after it.
 */
export function emailDomainOf(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  return at < 0 ? undefined : normaliseHost(email.slice(at + 1));
}
