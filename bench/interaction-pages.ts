// Login and consent pages for the in-memory oidc-provider yardstick, as small as its interaction API
// allows: the shapes bench/oauth-browser.ts drives (a password form, a decision form). The login checks
// the password with the project's Argon2id, as ours does, so the password-flow yardstick pays the hash.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { hashPassword, verifyPassword } from '../src/accounts/password.ts';
import { BENCH_EMAIL, BENCH_PASSWORD } from './fixtures.ts';

const stored = await hashPassword(BENCH_PASSWORD);
const PAGE = /^\/interaction\/([\w-]+)(\/login|\/confirm)?$/;

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return new URLSearchParams(body);
}

function page(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(html);
}

/** Serves /interaction/:uid (GET), …/login and …/confirm (POST); false for any other path. */
export async function handleInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse, resource: string): Promise<boolean> {
  const match = PAGE.exec((req.url ?? '').split('?')[0]!);
  if (!match) return false;
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    if (details.prompt.name === 'login') page(res, '<form method="post"><input name="email"><input name="password"></form>');
    else page(res, '<form method="post"><button name="decision" value="approve">Allow</button></form>');
    return true;
  }
  const form = await formOf(req);
  if (match[2] === '/login') {
    const ok = form.get('email') === BENCH_EMAIL && await verifyPassword(stored, form.get('password') ?? '');
    if (!ok) {
      res.statusCode = 401;
      res.end('wrong password');
      return true;
    }
    await provider.interactionFinished(req, res, { login: { accountId: BENCH_EMAIL } }, { mergeWithLastSubmission: false });
    return true;
  }
  const accountId = details.session?.accountId ?? BENCH_EMAIL;
  const clientId = String(details.params.client_id);
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined)
    ?? new provider.Grant({ accountId, clientId });
  grant.addResourceScope(resource, String(details.params.scope ?? ''));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  return true;
}
