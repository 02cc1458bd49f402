// Compares a registration with the MCP server's live protected resource metadata (RFC 9728), so the
// operator hears about audience, issuer and scope mismatches before MCP clients fail on them.
import { z } from 'zod';
import { fetchPublicJson } from '../outbound/fetch-public-json.ts';
import { tryCanonicalResourceUri } from './canonical-uri.ts';

// The operator is waiting at a prompt, and metadata is a few hundred bytes.
const TIMEOUT_MS = 2500;
const MAX_BYTES = 64 * 1024;

export interface MetadataCheckInput {
  /** The registered, canonical resource URI. */
  resourceUri: string;
  /** This authorization server's issuer, exactly as it appears in tokens and metadata. */
  issuer: string;
  /** The scopes being registered. */
  scopes: string[];
  /** The DPoP setting being registered (default 'allowed'), compared with dpop_bound_access_tokens_required. */
  dpop?: 'allowed' | 'required' | undefined;
  /** CIMD_ALLOW_LOOPBACK (development): a server on 127.0.0.1 or ::1 may be checked. Default: refused. */
  allowLoopback?: boolean | undefined;
}

export interface MetadataCheck {
  /** checked: a document was read and compared; not_checked: nothing usable could be fetched. */
  status: 'checked' | 'not_checked';
  /** The URL whose document was compared, when one was. */
  metadataUrl: string | undefined;
  /** Mismatches, each a sentence an operator can act on. */
  warnings: string[];
  /** Why nothing was compared, when nothing was. */
  note: string | undefined;
}

// Only the members we compare; the rest of the document is the server's business (RFC 9728 §2).
const prmSchema = z.object({
  resource: z.string(),
  authorization_servers: z.array(z.string()).optional(),
  scopes_supported: z.array(z.string()).optional(),
  dpop_bound_access_tokens_required: z.boolean().optional(),
});

/**
 * RFC 9728 §3.1: the well-known suffix goes between the host and the path. MCP clients try that
 * first and then the root (MCP authorization §Protected Resource Metadata Discovery); so do we.
 */
export function metadataUrlsFor(resourceUri: string): string[] {
  const url = new URL(resourceUri);
  const path = url.pathname.replace(/\/+$/, '');
  const root = `${url.origin}/.well-known/oauth-protected-resource`;
  return path === '' ? [root] : [`${root}${path}`, root];
}

export async function checkProtectedResourceMetadata(input: MetadataCheckInput): Promise<MetadataCheck> {
  const failures: string[] = [];
  let anyAnswer = false;
  for (const url of metadataUrlsFor(input.resourceUri)) {
    const outcome: FetchOutcome = await fetchMetadataDocument(url, input.allowLoopback ?? false);
    if (outcome.kind === 'document') {
      const parsed = prmSchema.safeParse(outcome.body);
      if (parsed.success) {
        return { status: 'checked', metadataUrl: url, warnings: compare(input, parsed.data), note: undefined };
      }
      failures.push(`${url} is JSON but not protected resource metadata (it needs a string "resource")`);
      anyAnswer = true;
      continue;
    }
    if (outcome.kind === 'http-problem') anyAnswer = true;
    failures.push(`${url}: ${outcome.reason}`);
  }
  if (anyAnswer) {
    // Something answers at that origin but serves no usable metadata: MCP clients cannot discover us.
    return {
      status: 'checked', metadataUrl: undefined, note: undefined,
      warnings: [`the server serves no usable protected resource metadata, so MCP clients cannot find this authorization server (${failures.join('; ')})`],
    };
  }
  return {
    status: 'not_checked', metadataUrl: undefined, warnings: [],
    note: `the server's protected resource metadata was not checked: ${failures.join('; ')}`,
  };
}

type Prm = z.infer<typeof prmSchema>;

// A checked field is quoted back, but never at length: the check is not a way to read a server's documents.
const MAX_QUOTED = 200;
const MAX_LISTED = 10;
const quote = (value: string) => JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value);
const listed = (values: string[], show: (value: string) => string) =>
  values.slice(0, MAX_LISTED).map(show).join(', ') + (values.length > MAX_LISTED ? ` and ${values.length - MAX_LISTED} more` : '');

function compare(input: MetadataCheckInput, prm: Prm): string[] {
  const warnings: string[] = [];
  const resourceProblem = describeResourceMismatch(prm.resource, input.resourceUri);
  if (resourceProblem) warnings.push(resourceProblem);
  const servers = prm.authorization_servers ?? [];
  if (!servers.includes(input.issuer)) {
    const nearly = servers.find((s) => tryCanonicalResourceUri(s) === tryCanonicalResourceUri(input.issuer));
    warnings.push(nearly
      ? `authorization_servers lists ${quote(nearly)}, but this server's issuer is exactly ${JSON.stringify(input.issuer)}: `
        + 'clients compare the issuer character for character (RFC 8414 §3.3)'
      : `authorization_servers ${servers.length ? `lists ${listed(servers, quote)} but` : 'is missing or empty and'} `
        + `does not name this server's issuer ${JSON.stringify(input.issuer)}: MCP clients will not come here for tokens`);
  }
  const missing = (prm.scopes_supported ?? []).filter((scope) => !input.scopes.includes(scope));
  if (missing.length > 0) {
    warnings.push(`the server declares scopes_supported ${listed(missing, (scope) => scope.slice(0, MAX_QUOTED))} that this registration lacks: `
      + 'clients asking for them will not get them (register them with --scope)');
  }
  // RFC 9728 §2: the two ends must agree, or clients get tokens the server refuses, or send no proof.
  const serverRequiresDpop = prm.dpop_bound_access_tokens_required === true;
  if (serverRequiresDpop && input.dpop !== 'required') {
    warnings.push('the server accepts only DPoP-bound tokens (dpop_bound_access_tokens_required), but this resource is '
      + 'registered --dpop allowed: a client that asks without a DPoP proof gets a bearer token the server refuses (use --dpop required)');
  } else if (!serverRequiresDpop && input.dpop === 'required') {
    warnings.push('this resource is registered --dpop required, but the server\'s metadata does not say '
      + 'dpop_bound_access_tokens_required: clients reading it may ask without a DPoP proof and be refused (set the kit\'s dpop: \'required\')');
  }
  return warnings;
}

/** Plain words for how the metadata's `resource` differs from the registered URI, or undefined. */
function describeResourceMismatch(declared: string, registered: string): string | undefined {
  if (declared === registered) return undefined;
  const canonical = tryCanonicalResourceUri(declared);
  const tail = 'tokens carry the registered URI as their audience, so a server that checks the audience against its '
    + `own "resource" refuses them: make the server's resource exactly ${JSON.stringify(registered)}`;
  if (canonical === registered) {
    const how = declared.replace(/\/+$/, '') !== declared && declared.replace(/\/+$/, '').toLowerCase() === registered.toLowerCase()
      ? 'a trailing slash'
      : 'the letter case of its scheme or host, or a default port';
    return `resource is ${quote(declared)}, which differs from the registered ${JSON.stringify(registered)} by ${how}; ${tail}`;
  }
  if (canonical !== undefined && canonical.toLowerCase() === registered.toLowerCase()) {
    return `resource is ${quote(declared)}, whose path differs in letter case from the registered ${JSON.stringify(registered)}: `
      + 'paths are case-sensitive, so clients will ask for a resource that is not registered (invalid_target)';
  }
  return `resource is ${quote(declared)}, not the registered ${JSON.stringify(registered)}: clients will ask for a token `
    + 'for that URI, which is not registered here (invalid_target)';
}

type FetchOutcome =
  | { kind: 'document'; body: unknown }
  /** Something answered, but not with a JSON document (a status, a redirect, the wrong type, too big). */
  | { kind: 'http-problem'; reason: string }
  /** Nothing answered: refused, timed out, unresolvable. */
  | { kind: 'unreachable'; reason: string };

/**
 * GET one URL through the SSRF-safe fetch of every outbound request (src/outbound/fetch-public-json.ts: the
 * address policy of metadata-document fetches on every resolved address and on the one the socket reaches,
 * no redirects, JSON only, a size cap and a timeout), so the check cannot be aimed at internal services.
 * Reasons quote nothing the server sent but its status and (shortened) content type: the document's own
 * fields are compared, never shown.
 */
async function fetchMetadataDocument(url: string, allowLoopback: boolean): Promise<FetchOutcome> {
  const result = await fetchPublicJson(new URL(url), { allowLoopback, timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES });
  if (result.ok) return { kind: 'document', body: result.body };
  const { failure } = result;
  switch (failure.code) {
    case 'forbidden_address': return { kind: 'unreachable', reason: NOT_PUBLIC };
    case 'timeout': return { kind: 'unreachable', reason: `no answer within ${TIMEOUT_MS / 1000} s` };
    case 'unreachable': return { kind: 'unreachable', reason: describeNetworkError(failure.errorCode) };
    case 'broken': return { kind: 'unreachable', reason: 'the connection broke while reading the answer' };
    case 'redirect':
      return { kind: 'http-problem', reason: `redirects (${failure.status}); metadata must be served at this URL, redirects are not followed` };
    case 'bad_status': return { kind: 'http-problem', reason: `HTTP ${failure.status}` };
    case 'not_json':
      return { kind: 'http-problem', reason: `served as ${JSON.stringify(failure.contentType.slice(0, 60) || 'no content type')}, not application/json` };
    case 'encoded': return { kind: 'http-problem', reason: `served with content-encoding ${JSON.stringify(failure.encoding.slice(0, 60))}` };
    case 'too_large': return { kind: 'http-problem', reason: `larger than ${MAX_BYTES / 1024} KiB` };
    case 'not_utf8': case 'hostile': case 'invalid_json': return { kind: 'http-problem', reason: 'not valid JSON' };
  }
}

const NOT_PUBLIC = 'its host does not resolve to a public internet address (private and loopback addresses are refused, '
  + 'as for client metadata documents; CIMD_ALLOW_LOOPBACK=true allows loopback in development)';

function describeNetworkError(code: string | undefined): string {
  if (code === 'ECONNREFUSED') return 'connection refused (is the MCP server running?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  return code ?? 'the request failed';
}
