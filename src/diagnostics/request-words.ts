// What a failed request asked, as `name value` pairs for people (the console and `client diagnose`):
// PKCE and client credentials only as sent or absent, never a value.
import type { RequestFacts } from './capture.ts';

export function describeRequestFacts(request: RequestFacts): [name: string, value: string][] {
  return Object.entries(request).map(([name, value]: [string, unknown]) => {
    if (typeof value === 'boolean') return [name, value ? 'sent' : 'absent'];
    return [name, Array.isArray(value) ? value.join(', ') : String(value)];
  });
}
