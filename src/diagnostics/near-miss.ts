// Which registered URI a refused one nearly is, and how they differ, in words: a trailing slash, http
// against https, another port, host or path. Pure; the explainer uses it for redirect URIs and resources.

export type UriDifference =
  | { kind: 'trailing_slash' }
  | { kind: 'scheme'; requested: string; registered: string }
  | { kind: 'host'; requested: string; registered: string }
  | { kind: 'port'; requested: string; registered: string }
  | { kind: 'path'; requested: string; registered: string }
  | { kind: 'query'; requested: string; registered: string };

export interface NearMiss {
  registered: string;
  differences: UriDifference[];
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };
const portOf = (url: URL) => url.port || DEFAULT_PORTS[url.protocol] || '';
const withoutTrailingSlash = (path: string) => path.replace(/\/+$/, '') || '/';

/** How `requested` differs from `registered`, part by part; undefined when either is no URL. */
export function uriDifferences(requested: string, registered: string): UriDifference[] | undefined {
  const a = URL.parse(requested);
  const b = URL.parse(registered);
  if (!a || !b) return undefined;
  const differences: UriDifference[] = [];
  if (a.protocol !== b.protocol) differences.push({ kind: 'scheme', requested: a.protocol.slice(0, -1), registered: b.protocol.slice(0, -1) });
  if (a.hostname !== b.hostname) differences.push({ kind: 'host', requested: a.hostname, registered: b.hostname });
  // URL drops a scheme's default port: http://h and https://h differ by scheme alone.
  if (a.port !== b.port) differences.push({ kind: 'port', requested: portOf(a) || '(none)', registered: portOf(b) || '(none)' });
  if (a.pathname !== b.pathname) {
    differences.push(withoutTrailingSlash(a.pathname) === withoutTrailingSlash(b.pathname)
      ? { kind: 'trailing_slash' }
      : { kind: 'path', requested: a.pathname, registered: b.pathname });
  }
  if (a.search !== b.search) differences.push({ kind: 'query', requested: a.search, registered: b.search });
  return differences;
}

// A trailing slash is the nearest of misses: preferred over another path when both are candidates.
const weightOf = (difference: UriDifference) => (difference.kind === 'trailing_slash' ? 0.5 : 1);
const subdomainOf = (host: string, of: string) => host.endsWith(`.${of}`);

/**
 * The registered URI `requested` most nearly is: at most two parts differ, and the host is the same
 * unless it alone differs, by a subdomain (www.example.com for example.com): another host is another server.
 */
export function nearestRegistered(requested: string, registered: readonly string[]): NearMiss | undefined {
  let best: { miss: NearMiss; weight: number } | undefined;
  for (const candidate of registered) {
    const differences = uriDifferences(requested, candidate);
    if (!differences || differences.length === 0 || differences.length > 2) continue;
    const host = differences.find((d) => d.kind === 'host');
    if (host && (differences.length > 1 || !(subdomainOf(host.requested, host.registered) || subdomainOf(host.registered, host.requested)))) continue;
    const weight = differences.reduce((sum, d) => sum + weightOf(d), 0);
    if (!best || weight < best.weight) best = { miss: { registered: candidate, differences }, weight };
  }
  return best?.miss;
}

/** One difference as a phrase completing "The URI sent …": "differs only by a trailing slash", "uses http where https is registered". */
export function describeDifference(difference: UriDifference): string {
  switch (difference.kind) {
    case 'trailing_slash': return 'differs only by a trailing slash';
    case 'scheme': return `uses ${difference.requested} where ${difference.registered} is registered`;
    case 'host': return `names host ${difference.requested} where ${difference.registered} is registered`;
    case 'port': return `uses port ${difference.requested} where ${difference.registered} is registered`;
    case 'path': return `has path ${difference.requested} where ${difference.registered} is registered`;
    case 'query': return `has query ${JSON.stringify(difference.requested)} where ${JSON.stringify(difference.registered)} is registered`;
  }
}
