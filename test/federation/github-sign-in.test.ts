// GitHub (`--preset github`): OAuth only, no ID token; the subject is GitHub's numeric user id and the email is
// the primary address GitHub says is verified (GET /user/emails). Against a loopback stand-in of its endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { addIdentityProvider } from '../../src/federation/service.ts';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import { continueWith, deliver, federationDeps, reachLoginPage } from '../helpers/federation-flow.ts';
import { startGitHubStandIn } from '../helpers/github-stand-in.ts';

let app: TestApp;
let github: Awaited<ReturnType<typeof startGitHubStandIn>>;
const CLIENT = { clientId: 'Iv1.portcullis', clientSecret: 'github-secret-github-secret' };

beforeAll(async () => {
  github = await startGitHubStandIn(CLIENT);
  ({ app } = await createNotesTestApp(undefined, { GITHUB_WEB_URL: github.url, GITHUB_API_URL: github.url }));
  await addIdentityProvider(federationDeps(app), { name: 'github', displayName: 'GitHub', preset: 'github', ...CLIENT }, CLI_OPERATOR);
}, 60_000);
afterAll(async () => {
  await github?.close();
  await app?.close();
});

/** Continue with GitHub → the stand-in's authorize page → our callback. */
async function signInWithGitHub() {
  const browser = app.browser();
  const { path } = await reachLoginPage(app, browser);
  const started = await continueWith(browser, path, 'github');
  expect(started.status, started.text).toBe(303);
  const authorize = new URL(started.headers.location as string);
  expect(authorize.origin).toBe(github.url);
  expect(authorize.pathname).toBe('/login/oauth/authorize');
  expect(authorize.searchParams.get('scope')).toBe('read:user user:email');
  const back = await fetch(authorize, { redirect: 'manual' });
  return deliver(browser, new URL(back.headers.get('location')!));
}

describe('GitHub sign-in', () => {
  it('creates the account from the verified primary email, the numeric id as the subject', async () => {
    github.signIn({ id: 4242, login: 'octo', name: 'Octo Cat', emails: [
      { email: 'octo@old.test', primary: false, verified: true }, { email: 'octo@cat.test', primary: true, verified: true },
    ] });
    const answered = await signInWithGitHub();
    expect(answered.status, answered.text).toBe(303);
    const { rows: [identity] } = await app.db.query<{ subject: string; email: string; claims: Record<string, unknown>; account_email: string }>(
      `SELECT f.subject, f.email, f.claims, a.email AS account_email FROM federated_identities f JOIN accounts a ON a.id = f.account_id
       JOIN identity_providers p ON p.id = f.provider_id WHERE p.name = 'github'`);
    expect(identity).toMatchObject({ subject: '4242', email: 'octo@cat.test', account_email: 'octo@cat.test' });
    expect(identity!.claims).toMatchObject({ groups: [], login: 'octo', email: 'octo@cat.test' });
    expect(github.seen).toEqual(expect.arrayContaining(['POST /login/oauth/access_token', 'GET /user', 'GET /user/emails']));
  });

  it('signs in no one whose primary email is not verified (a verified secondary one is not taken instead)', async () => {
    github.signIn({ id: 777, login: 'unverified', emails: [
      { email: 'u@cat.test', primary: true, verified: false }, { email: 'u2@cat.test', primary: false, verified: true },
    ] });
    const answered = await signInWithGitHub();
    expect(answered.status).toBe(403);
    const { rows } = await app.db.query("SELECT 1 FROM federated_identities WHERE subject = '777'");
    expect(rows).toHaveLength(0);
  });
});
