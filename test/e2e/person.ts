// The person at the browser, over plain HTTP with a cookie jar: opens an authorization URL, signs in
// when asked, reads the consent page and answers it, and hands back where the redirect went.
import request from 'supertest';
import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { expect } from 'vitest';
import { PASSWORD } from '../helpers/test-app.ts';
import { checkedScopes, csrfTokenOf } from '../helpers/oauth-flow.ts';

export interface ConsentSeen {
  /** Scopes offered as checkboxes, in page order. */
  offered: string[];
  /** Of those, the ones checked by default. */
  checked: string[];
  /** The page's HTML, for further assertions. */
  html: string;
}

/** Decides which offered scopes to leave checked; returning [] with an offer is a deny. */
export type ConsentChoice = (seen: ConsentSeen) => string[];

export const acceptDefaults: ConsentChoice = (seen) => seen.checked;
export const approveAllOffered: ConsentChoice = (seen) => seen.offered;

export class Person {
  readonly consents: ConsentSeen[] = [];
  protected readonly agent: TestAgent;

  constructor(protected readonly issuer: string, private readonly email: string, private readonly password = PASSWORD) {
    this.agent = request.agent(issuer);
  }

  /** Walks the authorization until it leaves the authorization server; returns that URL (the callback). */
  async authorize(authorizationUrl: URL | string, choose: ConsentChoice = acceptDefaults): Promise<URL> {
    let response = await this.agent.get(this.localPath(authorizationUrl));
    for (let step = 0; step < 12; step += 1) {
      const location = response.headers.location as string | undefined;
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, this.issuer);
        const back = next.origin === new URL(this.issuer).origin ? next : await this.elsewhere(next);
        if (!back) return next;
        response = await this.agent.get(this.localPath(back));
        continue;
      }
      expect(response.status, response.text.slice(0, 500)).toBe(200);
      const path = new URL(response.request.url).pathname;
      const csrf = csrfTokenOf(response.text);
      if (response.text.includes('name="password"')) {
        response = await this.signIn(path, response.text, csrf);
        continue;
      }
      if (response.text.includes('name="decision"')) {
        const seen: ConsentSeen = {
          offered: [...response.text.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1]!),
          checked: checkedScopes(response.text),
          html: response.text,
        };
        this.consents.push(seen);
        const chosen = choose(seen);
        const form = new URLSearchParams({ decision: seen.offered.length === 0 || chosen.length > 0 ? 'approve' : 'deny', csrf });
        for (const scope of chosen) form.append('scope', scope);
        response = await this.agent.post(`${path}/confirm`).type('form').send(form.toString());
        continue;
      }
      throw new Error(`unexpected page at ${path}: ${response.text.slice(0, 300)}`);
    }
    throw new Error('too many steps in one authorization');
  }

  /** Answers the login page: email and password here. */
  protected signIn(path: string, _html: string, csrf: string): Promise<Response> {
    return this.agent.post(`${path}/login`).type('form').send({ email: this.email, password: this.password, csrf });
  }

  /**
   * A redirect away from the authorization server: undefined ends the walk there (the client's callback);
   * a person signing in elsewhere (their identity provider) returns the URL that brings them back.
   */
  protected async elsewhere(_next: URL): Promise<URL | undefined> {
    return undefined;
  }

  protected localPath(url: URL | string): string {
    const parsed = new URL(url, this.issuer);
    return `${parsed.pathname}${parsed.search}`;
  }
}
