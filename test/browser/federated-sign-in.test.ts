// Federated sign-in in real headless Chromium against a real upstream oidc-provider on loopback: the
// "Continue with" button, email-first routing, first-time account creation, linking an existing account and
// the refused linkings, and "SSO only" (the password form sends the person to their provider instead).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { updateIdentityProvider } from '../../src/federation/service.ts';
import { notesResource, PASSWORD } from '../helpers/test-app.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';
import { addUpstream, federationDeps } from '../helpers/federation-flow.ts';
import {
  createLiveTestApp, launchChromium, McpClient, openPage, saveScreenshot, startCallbackServer, type CallbackServer, type LiveTestApp,
} from './harness.ts';

const NOTES = 'https://mcp.example.com/mcp';
let browser: Browser;
let app: LiveTestApp;
let idp: UpstreamIdp;
let callbacks: CallbackServer;

const identityOf = async (sub: string) => (await app.db.query<{ account_id: string; account_email: string }>(
  `SELECT f.account_id, a.email AS account_email FROM federated_identities f JOIN accounts a ON a.id = f.account_id WHERE f.subject = $1`, [sub])).rows[0];

beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp();
  await app.addResource(notesResource(NOTES));
  callbacks = await startCallbackServer();
  idp = await startUpstreamIdp({
    redirectUris: [`${app.issuer}/federation/callback`],
    users: [
      { sub: 'u-alice', email: 'alice@acme.test', email_verified: true, groups: ['ops'] },
      { sub: 'u-bob', email: 'bob@acme.test', email_verified: true },
      { sub: 'u-carol', email: 'carol@acme.test', email_verified: true },
      { sub: 'u-erin', email: 'erin@acme.test', email_verified: false },
      { sub: 'u-local', email: 'local@acme.test', email_verified: true },
    ],
  });
  await addUpstream(app, idp, { name: 'acme', displayName: 'Acme SSO', domains: ['acme.test'] }, app.issuer);
  await app.addUser('carol@acme.test');
  await app.addUser('erin@acme.test');
  await app.addUser('local@acme.test');
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await callbacks?.close();
  await idp?.close();
  await app?.close();
});

/** Signs in at the upstream IdP's own page as `sub`. */
async function signInUpstream(page: Page, sub: string) {
  await page.waitForURL(`${idp.issuer}/**`);
  await page.getByLabel('Username').fill(sub);
  await page.getByRole('button', { name: 'Sign in upstream' }).click();
}

/** Approves the consent page and redeems the code: the access token's subject. */
async function approve(page: Page, client: McpClient, request: ReturnType<McpClient['authorization']>) {
  await page.waitForSelector('form.consent-form');
  const delivered = callbacks.next();
  await page.getByRole('button', { name: 'Allow checked' }).click();
  const tokens = await client.redeem(await delivered, request);
  return decodeJwt(tokens.access_token).sub;
}

async function startAuthorization(name: string) {
  const client = await McpClient.register(app.issuer, callbacks.redirectUri, name);
  const request = client.authorization(NOTES, 'notes:read');
  const page = await openPage(browser);
  await page.goto(request.url);
  await page.waitForSelector('input[name="email"]');
  return { client, request, page };
}

describe('signing in with an identity provider in a browser', () => {
  it('"Continue with Acme SSO" signs a new person in, creates their account and reaches consent', async () => {
    const { client, request, page } = await startAuthorization('Federated Agent');
    const button = page.getByRole('button', { name: /^Continue with Acme SSO/ });
    expect(await button.count()).toBe(1);
    await saveScreenshot(page, 'federated-login.png');
    await button.click();
    await signInUpstream(page, 'u-alice');
    const subject = await approve(page, client, request);
    const identity = await identityOf('u-alice');
    expect(identity?.account_email).toBe('alice@acme.test');
    expect(subject).toBe(identity!.account_id);
  });

  it('routes an email of the provider\'s domain to it without asking for a password', async () => {
    const { client, request, page } = await startAuthorization('Email Routed Agent');
    await page.getByLabel('Email').fill('bob@acme.test');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await signInUpstream(page, 'u-bob');
    expect(await approve(page, client, request)).toBe((await identityOf('u-bob'))!.account_id);
  });

  it('links an existing account when the provider manages its domain and vouches for the email', async () => {
    const { client, request, page } = await startAuthorization('Linking Agent');
    await page.getByRole('button', { name: /^Continue with Acme SSO/ }).click();
    await signInUpstream(page, 'u-carol');
    const subject = await approve(page, client, request);
    expect((await identityOf('u-carol'))?.account_email).toBe('carol@acme.test');
    expect(subject).toBe((await identityOf('u-carol'))!.account_id);
  });

  it('refuses to link an existing account to an unverified email, and says why', async () => {
    const { page } = await startAuthorization('Refused Agent');
    await page.getByRole('button', { name: /^Continue with Acme SSO/ }).click();
    await signInUpstream(page, 'u-erin');
    await page.waitForURL(`${app.issuer}/federation/callback?**`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Sign-in was not completed');
    expect(await page.locator('main').textContent()).toContain('not verified');
    await saveScreenshot(page, 'federated-refused-link.png');
    expect(await identityOf('u-erin')).toBeUndefined();
  });

  it('"SSO only": the password form sends the person to their provider, and /account refuses the password', async () => {
    await updateIdentityProvider(federationDeps(app, app.issuer), { name: 'acme', ssoOnly: true }, CLI_OPERATOR);
    try {
      const { client, request, page } = await startAuthorization('SSO Only Agent');
      await page.getByLabel('Email').fill('local@acme.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await signInUpstream(page, 'u-local');
      expect(await approve(page, client, request)).toBe((await identityOf('u-local'))!.account_id);

      const portal = await openPage(browser);
      await portal.goto(`${app.issuer}/account`);
      await portal.getByLabel('Email').fill('local@acme.test');
      await portal.getByLabel('Password').fill(PASSWORD);
      await portal.getByRole('button', { name: 'Sign in' }).click();
      await portal.waitForSelector('[role="alert"]');
      expect(await portal.getByRole('alert').textContent()).toContain('sign in with Acme SSO, not with a password');
      await saveScreenshot(portal, 'federated-sso-only-portal.png');
    } finally {
      await updateIdentityProvider(federationDeps(app, app.issuer), { name: 'acme', ssoOnly: false }, CLI_OPERATOR);
    }
  });
});
