// Who may use the console: the signed-in account of the oidc-provider session /account uses, if it is
// an admin. Anonymous browsers go to the sign-in page; signed-in non-admins get a 403 that shows nothing.
import type Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import { signInWithPassword } from '../accounts/sign-in.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { currentAccount, signInSession, signOutSession } from '../oidc/sign-in-session.ts';
import { renderView } from '../views.ts';
import { consoleActor } from './actor.ts';
import type { AdminDeps } from './route-contract.ts';

const loginForm = z.object({ email: z.string().max(254).default(''), password: z.string().max(256).default('') });
const BAD_CREDENTIALS = 'That email and password do not match an account. Check them and try again.';
const STATUS = { 'signed-out': 'You are signed out.' } as Record<string, string>;

const facts = (ctx: Koa.Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string });

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
    const { email, password } = loginForm.parse(ctx.request.body ?? {});
    // The same throttled sign-in as every other form: per email and per IP, shared by all processes.
    const result = await signInWithPassword(db, { email, password, ...facts(ctx) }, loginThrottle);
    if (!result.ok && result.reason === 'throttled') {
      const minutes = Math.ceil(result.retryAfterSeconds / 60);
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      ctx.status = 429;
      ctx.body = await render(ctx, { email, error: `Too many sign-in attempts. Wait ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}, then try again.` });
      return;
    }
    if (!result.ok) {
      await recordAuditEvent(db, { type: 'login.failed', outcome: 'failure', ...facts(ctx), details: { reason: 'bad_credentials', via: 'admin' } });
      ctx.status = 401;
      ctx.body = await render(ctx, { email, error: BAD_CREDENTIALS });
      return;
    }
    if (!result.account.isAdmin) {
      // Right password, wrong person: no session is started here, and the attempt is on the record.
      await recordAuditEvent(db, {
        type: 'admin.action', outcome: 'failure', accountId: result.account.id, ...facts(ctx),
        details: { action: 'console.sign_in', reason: 'not_admin' },
      });
      return forbidden(ctx);
    }
    await signInSession(provider, ctx, result.account.id);
    await recordAuditEvent(db, { type: 'login.succeeded', accountId: result.account.id, ...facts(ctx), details: { via: 'admin' } });
    ctx.redirect(`${mountPath}/admin`);
    ctx.status = 303;
  });

  router.post('/admin/logout', noStore, async (ctx) => {
    await signOutSession(provider, ctx);
    ctx.redirect(`${mountPath}/admin/login?status=signed-out`);
    ctx.status = 303;
  });
}
