// The route resolver keeps its latest answers by method and path (src/http/route-resolver.ts): the same
// answer for the same request, frozen so no step can change another request's, and bounded, so a scan of
// unique or long paths cannot grow it. Real tables: @koa/router and a real oidc-provider's router.
import Router from '@koa/router';
import Provider from 'oidc-provider';
import type Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { createRouteResolver, type RouteTables } from '../../src/http/route-resolver.ts';
import { providerRoutes } from '../../src/oidc/provider-routes.ts';

function resolverCountingLookups() {
  const app = new Router();
  app.get('/account', () => {});
  app.get('/interaction/:uid', () => {});
  const tables: RouteTables = { app, provider: providerRoutes(new Provider('http://localhost:3000')) };
  const counter = { lookups: 0 };
  const resolver = createRouteResolver({ mountPath: '', aliases: [], tablesFor: () => { counter.lookups += 1; return tables; } });
  // A fresh context per request, as koa makes one.
  const resolve = (method: string, path: string) => resolver.resolve({ method, path } as Koa.Context);
  return { resolve, counter };
}

describe('the route resolver\'s recent answers', () => {
  it('answers a repeated method and path from what it kept, frozen', () => {
    const { resolve, counter } = resolverCountingLookups();
    const first = resolve('POST', '/token');
    const second = resolve('POST', '/token');
    expect(second).toBe(first);
    expect(counter.lookups).toBe(1);
    expect(first?.routes.map((route) => [route.owner, route.name])).toEqual([['provider', 'token']]);
    expect(Object.isFrozen(first) && Object.isFrozen(first?.routes) && Object.isFrozen(first?.routes[0])).toBe(true);
    expect(() => { (first!.routes as unknown[]).push({}); }).toThrow(TypeError);
    expect(() => { (first as { spelledCanonically: boolean }).spelledCanonically = false; }).toThrow(TypeError);
  });

  it('keeps each spelling and method apart: /TOKEN is still not spelled canonically, GET /token is not POST /token', () => {
    const { resolve } = resolverCountingLookups();
    expect(resolve('POST', '/token')?.spelledCanonically).toBe(true);
    const shouted = resolve('POST', '/TOKEN');
    expect(shouted?.spelledCanonically).toBe(false);
    expect(shouted?.canonicalPath).toBe('/token');
    expect(resolve('POST', '/token')?.spelledCanonically).toBe(true);
    expect(resolve('GET', '/token')).toBeUndefined();
    expect(resolve('GET', '/nowhere')).toBeUndefined();
  });

  it('is bounded: after a scan of 5,000 unique paths the first is looked up again; a long path is never kept', () => {
    const { resolve, counter } = resolverCountingLookups();
    resolve('GET', '/account');
    for (let i = 0; i < 5000; i++) resolve('GET', `/interaction/${'u'.repeat(12)}${i}`);
    const before = counter.lookups;
    expect(resolve('GET', '/account')?.routes[0]?.template).toBe('/account');
    expect(counter.lookups).toBe(before + 1);

    const long = `/interaction/${'x'.repeat(300)}`;
    resolve('GET', long);
    resolve('GET', long);
    expect(counter.lookups).toBe(before + 3);
  });
});
