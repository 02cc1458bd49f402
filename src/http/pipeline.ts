// The request pipeline as a table of named steps (src/app.ts lists them, in the order every request
// crosses them), like oidc-provider's authorization action: reading the table is reading the order.
import type Koa from 'koa';

export interface PipelineStep { name: string; run: Koa.Middleware }

export const step = (name: string, run: Koa.Middleware): PipelineStep => ({ name, run });

/** A step that runs only for requests `applies` picks; the others pass straight through. */
export function onlyWhen(applies: (ctx: Koa.Context) => boolean, run: Koa.Middleware): Koa.Middleware {
  return (ctx, next) => (applies(ctx) ? run(ctx, next) : next());
}

/** Mounts the steps in table order; returns their names, in that order, for the app's description. */
export function usePipeline(app: Koa, steps: readonly PipelineStep[]): readonly string[] {
  const names = steps.map((entry) => entry.name);
  if (new Set(names).size !== names.length) throw new Error(`pipeline step named twice: ${names.join(', ')}`);
  for (const entry of steps) app.use(entry.run);
  return Object.freeze(names);
}
