// Who may use the console: the signed-in account of the oidc-provider session /account uses, if it is
// an admin. Anonymous browsers go to the sign-in page; signed-in non-admins get a 403 that shows nothing.
import type Router from '@koa/router';
import type Koa from 'koa';
import { AppError } from '../errors.ts';
import { requestFacts } from '../http/request-facts.ts';
import { submitSignInForm } from '../http/sign-in-form.ts';
import { currentAccount, signInSession, signOutSession } from '../oidc/sign-in-session.ts';
import { renderView } from '../views.ts';
import { consoleActor } from './actor.ts';
import type { AdminDeps } from './route-contract.ts';

const STATUS = { 'signed-out': 'You are signed out.' } as Record<string, string>;

async function forbidden(ctx: Koa.Context): Promise<void> {
  ctx.status = 403;
  ctx.body = await renderView('admin/forbidden', {});
}

/** Admits admins; sends anonymous browsers to sign in (nothing is changed for nobody); 403 for others. */
export function requireAdminPage({ provider, db, mountPath }: AdminDeps): Koa.Middleware {
  return async (ctx, next) => {
    const account = await currentAccount(provider, db, ctx);
    if (!account) {
      ctx.redirect(`${mountPath}/admin/login`);
      ctx.status = 303;
      return;
    }
    if (!account.isAdmin) return forbidden(ctx);
    ctx.state.admin = { actor: consoleActor(ctx, account.id), email: account.email };
    return next();
  };
}

export function registerConsoleSignIn(router: Router, { provider, db, loginThrottle, mountPath }: AdminDeps, noStore: Koa.Middleware): void {
  const render = (ctx: Koa.Context, data: { email?: string; error?: string }) =>
    renderView('admin/login', { email: data.email ?? '', error: data.error, status: STATUS[String(ctx.query.status ?? '')] });

  router.get('/admin/login', noStore, async (ctx) => {
    const account = await currentAccount(provider, db, ctx);
    if (account?.isAdmin) return ctx.redirect(`${mountPath}/admin`);
    if (account) return forbidden(ctx);
    ctx.body = await render(ctx, {});
  });

  router.post('/admin/login', noStore, async (ctx) => {
    // The same throttled, audited sign-in as every other form: per email and per IP, shared by all processes.
    const account = await submitSignInForm(ctx, { db, loginThrottle }, { via: 'admin' }, (refused) => render(ctx, refused))
      .catch(async (error: unknown) => {
        // Right password, wrong person: the service started no session and put the attempt on the record.
        if (!(error instanceof AppError && error.code === 'not_admin')) throw error;
        await forbidden(ctx);
        return undefined;
      });
    if (!account) return;
    await signInSession(provider, ctx, account.id);
    ctx.redirect(`${mountPath}/admin`);
    ctx.status = 303;
  });

  router.post('/admin/logout', noStore, async (ctx) => {
    await signOutSession(provider, ctx, { db, via: 'admin', facts: requestFacts(ctx) });
    ctx.redirect(`${mountPath}/admin/login?status=signed-out`);
    ctx.status = 303;
  });
}
