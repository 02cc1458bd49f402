// GET /resource/tools: what a resource's kit fetches with the resource's own credential (its introspection
// client, client_secret_basic; RFC 6749 §2.3.1) to enforce the pins: drift policy, scope classes, approved digests.
import type Router from '@koa/router';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { approvedCatalogFor, authenticateResource } from '../tools/resource-credential.ts';

/** `Basic base64(urlencoded id ":" urlencoded secret)`, or undefined when the header is not that. */
function basicCredentials(header: string): { id: string; secret: string } | undefined {
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const text = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 1) return undefined;
  const decode = (part: string) => {
    try { return decodeURIComponent(part.replace(/\+/g, ' ')); } catch { return undefined; }
  };
  const [id, secret] = [decode(text.slice(0, colon)), decode(text.slice(colon + 1))];
  return id && secret !== undefined ? { id, secret } : undefined;
}

export function registerResourceToolRoutes(router: Router, { db }: { db: Db }): void {
  router.get('/resource/tools', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const credentials = basicCredentials(ctx.get('authorization'));
    if (!credentials) throw new AppError('invalid_client', 'authenticate with the resource\'s own client (client_secret_basic)', { challenge: 'Basic realm="resource"' });
    ctx.body = await approvedCatalogFor(db, await authenticateResource(db, credentials.id, credentials.secret));
  });
}
