// Compares a registration with the MCP server's live protected resource metadata (RFC 9728), so the
// operator hears about audience, issuer and scope mismatches before MCP clients fail on them.
import { z } from 'zod';
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
    const outcome: FetchOutcome = await fetchMetadataDocument(url);
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

function compare(input: MetadataCheckInput, prm: Prm): string[] {
  const warnings: string[] = [];
  const resourceProblem = describeResourceMismatch(prm.resource, input.resourceUri);
  if (resourceProblem) warnings.push(resourceProblem);
  const servers = prm.authorization_servers ?? [];
  if (!servers.includes(input.issuer)) {
    const nearly = servers.find((s) => tryCanonicalResourceUri(s) === tryCanonicalResourceUri(input.issuer));
    warnings.push(nearly
      ? `authorization_servers lists ${JSON.stringify(nearly)}, but this server's issuer is exactly ${JSON.stringify(input.issuer)}: `
        + 'clients compare the issuer character for character (RFC 8414 §3.3)'
      : `authorization_servers ${servers.length ? `lists ${servers.map((s) => JSON.stringify(s)).join(', ')} but` : 'is missing or empty and'} `
        + `does not name this server's issuer ${JSON.stringify(input.issuer)}: MCP clients will not come here for tokens`);
  }
  const missing = (prm.scopes_supported ?? []).filter((scope) => !input.scopes.includes(scope));
  if (missing.length > 0) {
    warnings.push(`the server declares scopes_supported ${missing.join(', ')} that this registration lacks: `
      + 'clients asking for them will not get them (register them with --scope)');
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
    return `resource is ${JSON.stringify(declared)}, which differs from the registered ${JSON.stringify(registered)} by ${how}; ${tail}`;
  }
  if (canonical !== undefined && canonical.toLowerCase() === registered.toLowerCase()) {
    return `resource is ${JSON.stringify(declared)}, whose path differs in letter case from the registered ${JSON.stringify(registered)}: `
      + 'paths are case-sensitive, so clients will ask for a resource that is not registered (invalid_target)';
  }
  return `resource is ${JSON.stringify(declared)}, not the registered ${JSON.stringify(registered)}: clients will ask for a token `
    + 'for that URI, which is not registered here (invalid_target)';
}

type FetchOutcome =
  | { kind: 'document'; body: unknown }
  /** Something answered, but not with a JSON document (a status, a redirect, the wrong type, too big). */
  | { kind: 'http-problem'; reason: string }
  /** Nothing answered: refused, timed out, unresolvable. */
  | { kind: 'unreachable'; reason: string };

/** GET one URL: no redirects followed, JSON only, a size cap and a timeout. */
async function fetchMetadataDocument(url: string): Promise<FetchOutcome> {
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'application/json' } });
  } catch (error) {
    return { kind: 'unreachable', reason: signal.aborted ? `no answer within ${TIMEOUT_MS / 1000} s` : describeNetworkError(error) };
  }
  try {
    if (response.status >= 300 && response.status < 400) {
      return { kind: 'http-problem', reason: `redirects (${response.status}) to ${response.headers.get('location') ?? '?'}; metadata must be served at this URL, redirects are not followed` };
    }
    if (response.status !== 200) return { kind: 'http-problem', reason: `HTTP ${response.status}` };
    const type = response.headers.get('content-type') ?? '';
    if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
      return { kind: 'http-problem', reason: `served as ${JSON.stringify(type || 'no content type')}, not application/json` };
    }
    const text = await readCapped(response);
    if (text === undefined) return { kind: 'http-problem', reason: `larger than ${MAX_BYTES / 1024} KiB` };
    try {
      return { kind: 'document', body: JSON.parse(text) as unknown };
    } catch {
      return { kind: 'http-problem', reason: 'not valid JSON' };
    }
  } catch (error) {
    return { kind: 'unreachable', reason: signal.aborted ? `no complete answer within ${TIMEOUT_MS / 1000} s` : describeNetworkError(error) };
  } finally {
    await response.body?.cancel().catch(() => {});
  }
}

/** The body as text, or undefined once it passes MAX_BYTES (the rest is never read). */
async function readCapped(response: Response): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// fetch() says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND …) is in its cause.
function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused (is the MCP server running?)';
  if (code === 'ENOTFOUND') return 'host not found';
  if (cause instanceof Error && cause.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
