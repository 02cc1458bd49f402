// GET and POST /resource/tools, POST /resource/tool-calls: what a resource's kit fetches with the resource's own credential (its introspection
// client, client_secret_basic; RFC 6749 §2.3.1) to enforce the pins (drift policy, scope classes, approved
// digests), and where it reports the tool definitions it serves.
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { approvedCatalogFor, authenticateResource } from '../tools/resource-credential.ts';
import { reportServedTools } from '../tools/service.ts';
import { recordToolCalls } from '../tools/calls.ts';

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

/** The resource behind the request's credential, or invalid_client. */
async function resourceOf(db: Db, header: string): Promise<{ resource: string; clientId: string }> {
  const credentials = basicCredentials(header);
  if (!credentials) throw new AppError('invalid_client', 'authenticate with the resource\'s own client (client_secret_basic)', { challenge: 'Basic realm="resource"' });
  return { resource: await authenticateResource(db, credentials.id, credentials.secret), clientId: credentials.id };
}

export function registerResourceToolRoutes(router: Router, { db }: { db: Db }): void {
  router.get('/resource/tools', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await approvedCatalogFor(db, (await resourceOf(db, ctx.get('authorization'))).resource);
  });
  // The kit reports the definitions it serves (reportTools); recorded as a tools/list answer would be.
  router.post('/resource/tools', bodyParser({ enableTypes: ['json'], jsonLimit: '1mb', encoding: 'utf-8' }), async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { resource, clientId } = await resourceOf(db, ctx.get('authorization'));
    const outcome = await reportServedTools(db, resource, clientId, ctx.request.body);
    ctx.body = { resource: outcome.catalog.resource.uri, tools: outcome.catalog.tools.filter((t) => t.status !== 'removed').length, drifted: outcome.drifted };
  });
  // The kit's tool-call records (issue 14 §6: createToolCallRecorder), in batches; the body's size is bounded by
  // the input boundary (56 KiB) before this parser, the records' count by the service.
  router.post('/resource/tool-calls', bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' }), async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { resource, clientId } = await resourceOf(db, ctx.get('authorization'));
    ctx.body = { resource, ...await recordToolCalls(db, resource, clientId, ctx.request.body) };
  });
}
