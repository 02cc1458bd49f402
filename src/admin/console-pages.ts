// The console's pages other than resources and clients: overview, users, signing keys and the audit log,
// each a GET that renders and POST actions that change one thing and redirect (PRG).
import type Koa from 'koa';
import { createAccount, listAccounts, resetAccountPassword, setAccountEnabled } from '../accounts/service.ts';
import { auditFilterSchema, listAuditEventTypes, readAuditPage } from '../audit/service.ts';
import { listKeys, retireKey, rotateKeys, type KeyServiceDeps } from '../keys/service.ts';
import { field, formAction, renderConsolePage } from './console-page.ts';
import { loadOverview } from './overview.ts';
import type { AdminDeps, AdminRequest, AdminRoutes } from './route-contract.ts';

export function registerConsolePages({ page }: AdminRoutes, { db, config, secrets, mountPath, refreshSigningKeys }: AdminDeps): void {
  page('get', '', async (ctx, admin) => {
    await renderConsolePage(ctx, admin, 'overview', 'overview', await loadOverview(db));
  });

  // Users
  const showUsers = async (ctx: Koa.Context, admin: AdminRequest, error?: string, form = { email: '', isAdmin: false }) => {
    await renderConsolePage(ctx, admin, 'users', 'users', { users: await listAccounts(db), self: admin.actor.accountId, error, form });
  };
  page('get', '/users', (ctx, admin) => showUsers(ctx, admin));
  page('post', '/users', (ctx, admin) => {
    const form = { email: field(ctx, 'email'), isAdmin: field(ctx, 'is_admin') === 'on' };
    return formAction(ctx, mountPath, async () => {
      await createAccount(db, { email: form.email, password: field(ctx, 'password'), isAdmin: form.isAdmin }, admin.actor);
      return { path: '/users', status: 'user-created' };
    }, (error) => showUsers(ctx, admin, error, form));
  });
  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    page('post', `/users/${action}`, (ctx, admin) => formAction(ctx, mountPath, async () => {
      await setAccountEnabled(db, { id: field(ctx, 'account_id'), enabled }, admin.actor);
      return { path: '/users', status: `user-${action}d` };
    }, (error) => showUsers(ctx, admin, error)));
  }
  page('post', '/users/password', (ctx, admin) => formAction(ctx, mountPath, async () => {
    // Not trimmed: a password is exactly what was typed.
    const password = (ctx.request.body as Record<string, unknown> | undefined)?.password;
    await resetAccountPassword(db, { id: field(ctx, 'account_id'), password: typeof password === 'string' ? password : '' }, admin.actor);
    return { path: '/users', status: 'password-reset' };
  }, (error) => showUsers(ctx, admin, error)));

  // Signing keys
  const keys: KeyServiceDeps = { db, keyEncryptionSecret: secrets.keyEncryptionSecret, publishAheadSeconds: config.keyPublishAheadSeconds, refreshSigningKeys };
  const showKeys = async (ctx: Koa.Context, admin: AdminRequest, error?: string) => {
    await renderConsolePage(ctx, admin, 'keys', 'keys', {
      keys: await listKeys(db), now: new Date(), publishAheadSeconds: config.keyPublishAheadSeconds, error,
    });
  };
  page('get', '/keys', (ctx, admin) => showKeys(ctx, admin));
  page('post', '/keys/rotate', (ctx, admin) => formAction(ctx, mountPath, async () => {
    const rotated = await rotateKeys(keys, { now: field(ctx, 'now') === 'on' }, admin.actor);
    return { path: '/keys', status: rotated.publishedAheadSeconds === 0 ? 'keys-rotated-now' : 'keys-rotated' };
  }, (error) => showKeys(ctx, admin, error)));
  page('post', '/keys/retire', (ctx, admin) => formAction(ctx, mountPath, async () => {
    await retireKey(keys, { kid: field(ctx, 'kid'), force: field(ctx, 'force') === 'on' }, admin.actor);
    return { path: '/keys', status: 'key-retired' };
  }, (error) => showKeys(ctx, admin, error)));

  // Audit log: a GET form, so a filtered view is a link an operator can share with the security team.
  page('get', '/audit', async (ctx, admin) => {
    const parsed = auditFilterSchema.safeParse(ctx.query);
    const types = await listAuditEventTypes(db);
    const query = (name: string) => (typeof ctx.query[name] === 'string' ? ctx.query[name] : '');
    const filter = { user: query('user'), client: query('client'), resource: query('resource'), type: query('type'), since: query('since'), until: query('until') };
    if (!parsed.success) {
      ctx.status = 400;
      await renderConsolePage(ctx, admin, 'audit', 'audit', {
        types, filter, events: [], nextPage: undefined,
        error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
      });
      return;
    }
    const result = await readAuditPage(db, parsed.data);
    const next = new URLSearchParams(Object.entries(filter).filter(([, value]) => value !== ''));
    if (result.nextBefore) next.set('before', result.nextBefore);
    await renderConsolePage(ctx, admin, 'audit', 'audit', {
      types, filter, events: result.events, nextPage: result.nextBefore ? `${mountPath}/admin/audit?${next}` : undefined,
      firstPage: parsed.data.before ? `${mountPath}/admin/audit?${new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== ''))}` : undefined,
    });
  });
}
