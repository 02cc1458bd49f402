// The login and consent pages oidc-provider sends people to (`interactions.url`), wired through its
// documented interaction API: interactionDetails → our decision → interactionFinished.
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { authenticateAccount } from '../accounts/store.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { renderView } from '../views.ts';
import { describeConsent, grantConsent } from './consent.ts';

const loginForm = z.object({ email: z.string().max(254).default(''), password: z.string().max(256).default('') });
const consentForm = z.object({ decision: z.enum(['approve', 'deny']) });

export interface InteractionDeps { provider: Provider; db: Db }

const facts = (ctx: Koa.Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string });

export function registerInteractionRoutes(router: Router, { provider, db }: InteractionDeps): void {
  router.get('/interaction/:uid', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) ctx.throw(400, 'interaction mismatch');
    const client = await provider.Client.find(String(details.params.client_id));
    if (details.prompt.name === 'login') {
      ctx.body = await renderView('login', { uid: details.uid, clientName: client?.clientName ?? client?.clientId, email: '', error: undefined });
      return;
    }
    ctx.body = await renderView('consent', { uid: details.uid, ...(await describeConsent(db, details, client)) });
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid || details.prompt.name !== 'login') ctx.throw(400, 'this sign-in step is not expected now');
    const { email, password } = loginForm.parse(ctx.request.body ?? {});
    const account = email && password ? await authenticateAccount(db, email, password) : undefined;
    const clientId = String(details.params.client_id);
    if (!account) {
      await recordAuditEvent(db, { type: 'login.failed', outcome: 'failure', clientId, ...facts(ctx), details: { reason: 'bad_credentials' } });
      const client = await provider.Client.find(clientId);
      ctx.status = 401;
      ctx.body = await renderView('login', {
        uid: details.uid, clientName: client?.clientName ?? clientId, email,
        error: 'That email and password do not match an account. Check them and try again.',
      });
      return;
    }
    await recordAuditEvent(db, { type: 'login.succeeded', accountId: account.id, clientId, ...facts(ctx) });
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
  });

  router.post('/interaction/:uid/confirm', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid || details.prompt.name !== 'consent') ctx.throw(400, 'this consent step is not expected now');
    const { decision } = consentForm.parse(ctx.request.body ?? {});
    const clientId = String(details.params.client_id);
    const resource = typeof details.params.resource === 'string' ? details.params.resource : undefined;
    if (decision === 'deny') {
      await recordAuditEvent(db, { type: 'consent.denied', accountId: details.session?.accountId, clientId, resource, ...facts(ctx) });
      await provider.interactionFinished(ctx.req, ctx.res,
        { error: 'access_denied', error_description: 'The person declined to authorize this request' },
        { mergeWithLastSubmission: false });
      return;
    }
    const granted = await grantConsent(provider, details);
    await recordAuditEvent(db, {
      type: 'consent.granted', accountId: details.session?.accountId, clientId, resource: granted.resource,
      scopes: granted.scopes.join(' '), ...facts(ctx), details: { grant_id: granted.grantId },
    });
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: granted.grantId } }, { mergeWithLastSubmission: true });
  });
}
