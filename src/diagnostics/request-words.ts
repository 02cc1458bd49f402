// What a failed request asked, as `name value` pairs for people (the console and `client diagnose`), in
// one fixed order (jsonb does not keep the recorded one): PKCE and client credentials only as sent or absent.
import type { RequestFacts } from './capture.ts';

const ORDER: readonly (keyof RequestFacts)[] = [
  'grant_type', 'response_type', 'redirect_uri', 'resource', 'scope', 'code_challenge', 'code_challenge_method', 'code_verifier', 'client_auth',
];

export function describeRequestFacts(request: RequestFacts): [name: string, value: string][] {
  return ORDER.flatMap((name): [string, string][] => {
    const value: unknown = request[name];
    if (value === undefined) return [];
    if (typeof value === 'boolean') return [[name, value ? 'sent' : 'absent']];
    return [[name, Array.isArray(value) ? value.join(', ') : String(value)]];
  });
}
