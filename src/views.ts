// Renders the server's pages from views/*.ejs, and the formats every page shares. EJS escapes every `<%= %>`
// output, so a client named `<script>` shows as text; templates never use the unescaped `<%-` form for data.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { currentRequestContext } from './request/scope.ts';

const viewsDir = fileURLToPath(new URL('../views/', import.meta.url));
let basePath = '';

/** The issuer's path prefix, prepended to every link and form action the pages contain. */
export function setViewBasePath(path: string): void {
  basePath = path;
}

// The anti-forgery token of the request being served (src/http/csrf.ts puts it on our pages'
// ctx.state), so every form's `partials/csrf` gets it without each route passing it along.
function currentCsrfToken(): string | undefined {
  const ctx = currentRequestContext() as { state?: { csrfToken?: unknown } } | undefined;
  return typeof ctx?.state?.csrfToken === 'string' ? ctx.state.csrfToken : undefined;
}

// Templates are compiled once per process (a template change needs a restart, like code).
export function renderView(name: string, data: Record<string, unknown>): Promise<string> {
  return ejs.renderFile(join(viewsDir, `${name}.ejs`), { basePath, csrfToken: currentCsrfToken(), ...data }, { cache: true });
}

/** A fixed, unambiguous format (the server does not know the reader's time zone: say UTC). */
export function formatTime(date: Date | null): { text: string; iso: string } | null {
  if (!date || Number.isNaN(date.getTime())) return null;
  const text = date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return { text: `${text} UTC`, iso: date.toISOString() };
}
