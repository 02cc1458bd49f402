// oidc-provider is mounted under the issuer's path. Which requests go in is the route resolver's answer,
// matched as the routers match (letter case, a trailing slash), not a comparison of the path's spelling.
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { mountAt } from '../../src/http/mount.ts';
import { createRouteResolver } from '../../src/http/route-resolver.ts';

function appMountedAt(prefix: string) {
  const routes = createRouteResolver({ mountPath: prefix, aliases: [], tablesFor: () => { throw new Error('no tables needed'); } });
  const mounted = new Koa();
  mounted.use((ctx) => { ctx.body = { mounted: ctx.path }; });
  const app = new Koa();
  app.use(mountAt(prefix, mounted, (ctx) => routes.underMount(ctx)));
  app.use((ctx) => { ctx.status = 404; ctx.body = { outside: ctx.path }; });
  return request(app.callback());
}

describe('mounting oidc-provider under the issuer path', () => {
  it('hands over every spelling of the prefix the routers would take, with the prefix stripped', async () => {
    const app = appMountedAt('/tenant-a');
    expect((await app.get('/tenant-a/token')).body).toEqual({ mounted: '/token' });
    expect((await app.get('/TENANT-A/token')).body).toEqual({ mounted: '/token' });
    expect((await app.get('/tenant-a')).body).toEqual({ mounted: '/' });
    expect((await app.get('/tenant-a/')).body).toEqual({ mounted: '/' });
  });

  it('keeps a neighbouring path out: /tenant-ab is not under /tenant-a', async () => {
    const app = appMountedAt('/tenant-a');
    expect((await app.get('/tenant-ab/token')).body).toEqual({ outside: '/tenant-ab/token' });
    expect((await app.get('/account')).body).toEqual({ outside: '/account' });
  });

  it('hands everything over when the issuer has no path', async () => {
    expect((await appMountedAt('').get('/token')).body).toEqual({ mounted: '/token' });
  });
});
