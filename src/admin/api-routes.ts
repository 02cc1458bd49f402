// The admin JSON API under /admin/api: the console's operations for scripts, with zod-checked JSON
// bodies (unknown fields refused) and snake_case answers. Authorization is routes.ts's `api` gate.
import { z } from 'zod';
import {
  accountJson, createAccount, listAccounts, resetAccountPassword, setAccountEnabled,
} from '../accounts/service.ts';
import { auditFilterSchema, auditPageJson, readAuditPage } from '../audit/service.ts';
import {
  keyJson, listKeys, retireKey, retireKeyInput, rotatedKeysJson, rotateKeys, type KeyServiceDeps,
} from '../keys/service.ts';
import { clientDeletionJson, clientJson, clientStatusJson } from '../clients/json.ts';
import { listClientOverview, removeClient, setClientEnabled } from '../clients/service.ts';
import {
  metadataCheckJson, newResourceBody, resourceJson, resourceOutcomeJson, resourceSettingsBody, settingsFromBody,
} from '../resources/json.ts';
import {
  checkResource, listResourceOverview, registerResource, resourceServiceDeps, setResourceEnabled, updateResource,
} from '../resources/service.ts';
import { refreshOutcomeJson } from '../tools/json.ts';
import { refreshToolCatalog, toolServiceDeps } from '../tools/service.ts';
import { overviewJson } from './api-json.ts';
import { loadOverview } from './overview.ts';
import type { AdminDeps, AdminRoutes } from './route-contract.ts';

const newUserBody = z.strictObject({ email: z.string(), password: z.string(), is_admin: z.boolean().default(false) });
const passwordBody = z.strictObject({ password: z.string() });
// The kid comes from the path, the rest from the body (unknown fields refused).
const retireBody = retireKeyInput.omit({ kid: true });

export function registerAdminApiRoutes({ api }: AdminRoutes, { db, config, secrets, refreshSigningKeys }: AdminDeps): void {
  const resources = resourceServiceDeps(db, config);
  const body = (ctx: { request: { body?: unknown } }) => ctx.request.body ?? {};

  api('get', '/overview', async (ctx) => { ctx.body = overviewJson(await loadOverview(db)); });

  api('get', '/resources', async (ctx) => { ctx.body = { resources: (await listResourceOverview(db)).map(resourceJson) }; });
  api('post', '/resources', async (ctx, { actor }) => {
    const input = newResourceBody.parse(body(ctx));
    const outcome = await registerResource(resources, { uri: input.uri, ...settingsFromBody(input) }, actor, { check: input.check });
    // Its tools listed at once, as `resource add` and the console do. Best effort: a server that is down or refuses
    // leaves the registration as it is, and the answer's `tools.error` says why (retry with …/tools/refresh).
    const tools = input.check ? await refreshToolCatalog(toolServiceDeps(db, config, secrets.keyEncryptionSecret), outcome.resource.uri, actor) : undefined;
    ctx.status = 201;
    ctx.body = { ...resourceOutcomeJson(outcome), ...(tools ? { tools: refreshOutcomeJson(tools) } : {}) };
  });
  api('put', '/resources/:uri', async (ctx, { actor }) => {
    const input = resourceSettingsBody.parse(body(ctx));
    ctx.body = resourceOutcomeJson(await updateResource(resources, ctx.params.uri!, settingsFromBody(input), actor, { check: input.check }));
  });
  api('post', '/resources/:uri/check', async (ctx) => {
    ctx.body = { check: metadataCheckJson(await checkResource(resources, ctx.params.uri!)) };
  });
  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    api('post', `/resources/:uri/${action}`, async (ctx, { actor }) => {
      const { resource, changed } = await setResourceEnabled(db, ctx.params.uri!, enabled, actor);
      ctx.body = { resource: resourceJson(resource), changed };
    });
  }

  api('get', '/clients', async (ctx) => { ctx.body = { clients: (await listClientOverview(db)).map(clientJson) }; });
  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    api('post', `/clients/:id/${action}`, async (ctx, { actor }) => {
      ctx.body = clientStatusJson(await setClientEnabled(db, ctx.params.id!, enabled, actor));
    });
  }
  api('delete', '/clients/:id', async (ctx, { actor }) => {
    ctx.body = clientDeletionJson(await removeClient(db, ctx.params.id!, actor));
  });

  api('get', '/users', async (ctx) => { ctx.body = { users: (await listAccounts(db)).map(accountJson) }; });
  api('post', '/users', async (ctx, { actor }) => {
    const input = newUserBody.parse(body(ctx));
    const account = await createAccount(db, { email: input.email, password: input.password, isAdmin: input.is_admin }, actor);
    ctx.status = 201;
    ctx.body = { user: accountJson(account) };
  });
  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    api('post', `/users/:id/${action}`, async (ctx, { actor }) => {
      const outcome = await setAccountEnabled(db, { id: ctx.params.id!, enabled }, actor);
      ctx.body = {
        id: outcome.id, status: enabled ? 'active' : 'disabled', changed: outcome.changed,
        sessions_ended: outcome.sessionsEnded, grants_revoked: outcome.grantsRevoked,
      };
    });
  }
  api('post', '/users/:id/password', async (ctx, { actor }) => {
    const outcome = await resetAccountPassword(db, { id: ctx.params.id!, password: passwordBody.parse(body(ctx)).password }, actor);
    ctx.body = { id: outcome.id, password_reset: true, sessions_ended: outcome.sessionsEnded };
  });

  const keys: KeyServiceDeps = { db, keyEncryptionSecret: secrets.keyEncryptionSecret, publishAheadSeconds: config.keyPublishAheadSeconds, refreshSigningKeys };
  api('get', '/keys', async (ctx) => { ctx.body = { keys: (await listKeys(db)).map(keyJson) }; });
  api('post', '/keys/rotate', async (ctx, { actor }) => {
    const rotated = await rotateKeys(keys, body(ctx), actor);
    ctx.status = 201;
    ctx.body = rotatedKeysJson(rotated);
  });
  api('post', '/keys/:kid/retire', async (ctx, { actor }) => {
    const { force } = retireBody.parse(body(ctx));
    ctx.body = { key: keyJson(await retireKey(keys, { kid: ctx.params.kid!, force }, actor)) };
  });

  api('get', '/audit', async (ctx) => {
    ctx.body = auditPageJson(await readAuditPage(db, auditFilterSchema.parse(ctx.query)));
  });
}
