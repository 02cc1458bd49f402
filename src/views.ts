// Renders the server's pages from views/*.ejs. EJS escapes every `<%= %>` output, so a client named
// `<script>` shows as text; templates never use the unescaped `<%-` form for data.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';

const viewsDir = fileURLToPath(new URL('../views/', import.meta.url));
let basePath = '';

/** The issuer's path prefix, prepended to every link and form action the pages contain. */
export function setViewBasePath(path: string): void {
  basePath = path;
}

// Templates are compiled once per process (a template change needs a restart, like code).
export function renderView(name: string, data: Record<string, unknown>): Promise<string> {
  return ejs.renderFile(join(viewsDir, `${name}.ejs`), { basePath, ...data }, { cache: true });
}
