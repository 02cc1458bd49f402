// The koa adapter against the shared adapter contract: once reading the body itself, once behind
// @koa/bodyparser (the body then comes from ctx.request.body).
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import { createServer } from 'node:http';
import type { ResourceServer } from '@portcullis/resource-server';
import { koaBearerAuth, koaProtectedResourceMetadata, type KoaAuthState } from '@portcullis/resource-server/koa';
import { describeAdapterContract, toolScopes } from './adapter-contract.ts';

async function startKoa(kit: ResourceServer, withBodyParser: boolean) {
  const app = new Koa<KoaAuthState>();
  app.silent = true;
  app.use(koaProtectedResourceMetadata(kit));
  if (withBodyParser) app.use(bodyParser({ enableTypes: ['json'], encoding: 'utf-8' }));
  const mcp = koaBearerAuth(kit, { toolScopes });
  const admin = koaBearerAuth(kit, { requiredScopes: ['notes:admin'] });
  app.use(async (ctx, next) => {
    const guard = ctx.path === '/mcp' ? mcp : ctx.path === '/admin' ? admin : undefined;
    if (!guard) return next();
    await guard(ctx, async () => {
      ctx.body = { auth: ctx.state.auth, body: (ctx.request as { body?: unknown }).body };
    });
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describeAdapterContract('koa', (kit) => startKoa(kit, false));
describeAdapterContract('koa behind a body parser', (kit) => startKoa(kit, true), { bodyParsedBefore: true });
