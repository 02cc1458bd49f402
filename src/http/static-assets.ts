// Serves the one stylesheet from public/. Read once; nothing else on disk is reachable.
import { readFileSync } from 'node:fs';
import type Router from '@koa/router';

const stylesheet = readFileSync(new URL('../../public/style.css', import.meta.url));

export function registerAssetRoutes(router: Router): void {
  router.get('/assets/style.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });
}
