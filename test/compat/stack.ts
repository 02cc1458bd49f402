// What every compatibility test runs a real client against: a listening Portcullis, the example notes
// server registered as its resource, one person, and headless Chromium for that person's sign-in and consent.
import type { Browser, Page } from 'playwright-core';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { createLiveTestApp, launchChromium, openPage, reachConsent, type LiveTestApp } from '../browser/harness.ts';

export const NOTES_SCOPES = [
  { scope: 'notes:read', risk: 'read' as const, description: 'Read your notes' },
  { scope: 'notes:write', risk: 'write' as const, description: 'Add notes' },
  { scope: 'notes:delete', risk: 'irreversible' as const, description: 'Delete all your notes' },
];

export interface CompatStack {
  portcullis: LiveTestApp;
  notes: NotesServer;
  browser: Browser;
  /** The person who signs in; `personId` is the subject of their tokens. */
  email: string;
  personId: string;
  close(): Promise<void>;
}

/** One stack per test file (a server start is the slow part; CI must stay fast). */
export async function startCompatStack(environment: Record<string, string> = {}): Promise<CompatStack> {
  const portcullis = await createLiveTestApp(environment);
  const notes = await startNotesServer({ port: 0, issuer: portcullis.issuer });
  await portcullis.addResource({ uri: notes.url, name: 'Notes', scopes: NOTES_SCOPES });
  const person = await portcullis.addUser();
  const browser = await launchChromium();
  return {
    portcullis, notes, browser, email: person.email, personId: person.id,
    async close() {
      await browser.close();
      await notes.close();
      await portcullis.close();
    },
  };
}

/**
 * The person opens `authorizationUrl` in their browser (`page`, which keeps its cookies), signs in when
 * asked, ticks `tick` (labels) on the consent page, allows, and lands on the client's callback;
 * resolves with that callback URL once the browser has reached it.
 */
export async function approveInBrowser(page: Page, authorizationUrl: string, email: string, tick: string[] = []): Promise<URL> {
  await reachConsent(page, authorizationUrl, email);
  for (const label of tick) await page.getByLabel(label).check();
  const issuerOrigin = new URL(authorizationUrl).origin;
  await Promise.all([
    page.waitForURL((url) => url.origin !== issuerOrigin),
    page.getByRole('button', { name: /^(Allow checked|Continue)$/ }).click(),
  ]);
  return new URL(page.url());
}

export { openPage };
