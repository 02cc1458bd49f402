// How a request path may be spelled (RFC 3986 §6.2.2): which spellings name the same path, and which one of
// them is canonical. src/http/route-resolver.ts uses it to find the route that any spelling would reach.

// RFC 3986 §2.3 unreserved characters: percent-encoding one of them changes nothing but the spelling.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// RFC 3986 §3.3 pchar, with '%' for escapes: anything else in a path is not a URI path at all.
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]*$/;
const ESCAPE = /%([0-9A-Fa-f]{2})|%/g;
// path-to-regexp syntax beyond plain `:name` segments: a template using it has no spelling we can derive.
const TEMPLATE_SYNTAX = /[{}()*?+\\]/;

/**
 * A path segment in normal form (RFC 3986 §6.2.2.1-2): unreserved characters never percent-encoded, other
 * escapes in upper-case hex. Undefined when the segment has no normal form: a malformed escape or a
 * character that no URI path may carry. (Reserved characters keep their spelling: an admin API path
 * carries a resource URI in one segment, so its '/' must stay %2F.)
 */
export function normalSegment(raw: string): string | undefined {
  if (!PCHAR.test(raw)) return undefined;
  let malformed = false;
  const normal = raw.replace(ESCAPE, (escape, hex: string | undefined) => {
    if (hex === undefined) { malformed = true; return escape; }
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return malformed ? undefined : normal;
}

/**
 * The path every lenient spelling of `path` collapses to: empty segments (repeated or trailing slashes)
 * dropped, dot segments resolved (RFC 3986 §5.2.4), escapes in normal form. Letter case is kept: only a
 * route template knows which segments are literal (case-insensitive to our routers) and which are values.
 */
export function collapsedPath(path: string): string {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    const segment = normalSegment(raw) ?? raw;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

/**
 * The canonical spelling of `path` on the route `template` (e.g. '/reg/:clientId') that matched it:
 * the template's own literal segments, each parameter's segment in normal form, no trailing slash.
 * Undefined when the path has none: a parameter that is empty, a dot segment or malformed, or a
 * template whose syntax is beyond plain `:name` segments (then no spelling is let through).
 */
export function canonicalPathOn(template: string, path: string): string | undefined {
  if (TEMPLATE_SYNTAX.test(template)) return undefined;
  const literals = template.split('/');
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const given = trimmed.split('/');
  if (literals.length !== given.length) return undefined;
  const canonical: string[] = [];
  for (const [index, literal] of literals.entries()) {
    if (!literal.startsWith(':')) { canonical.push(literal); continue; }
    const value = normalSegment(given[index]!);
    if (!value || value === '.' || value === '..') return undefined;
    canonical.push(value);
  }
  return canonical.join('/') || '/';
}
