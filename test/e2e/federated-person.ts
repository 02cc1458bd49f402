// A person whose organisation signs them in, over plain HTTP as person.ts: on our login page they press
// "Continue with <display name>", sign in at the organisation's identity provider (a real oidc-provider on
// loopback, test/helpers/upstream-idp.ts) and come back through ISSUER/federation/callback; then consent.
import type { Response } from 'supertest';
import type { UpstreamIdp } from '../helpers/upstream-idp.ts';
import { Person } from './person.ts';

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#34;': '"', '&#39;': "'", '&quot;': '"' };
const unescapeHtml = (text: string) => text.replace(/&(?:amp|lt|gt|quot|#34|#39);/g, (entity) => ENTITIES[entity]!);

/** What a browser submits when the button with this text is pressed: its form's action and fields. */
export function formOfButton(html: string, buttonText: string): { action: string; fields: URLSearchParams } {
  for (const [, attributes, body] of html.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)) {
    const buttons = [...body!.matchAll(/<button[^>]*>([\s\S]*?)<\/button>/g)].map((m) => unescapeHtml(m[1]!.trim()));
    if (!buttons.includes(buttonText)) continue;
    const action = /action="([^"]*)"/.exec(attributes!)?.[1];
    if (action === undefined || !/method="post"/i.test(attributes!)) throw new Error(`the form of "${buttonText}" is not a POST form with an action`);
    const fields = new URLSearchParams();
    for (const [, input] of body!.matchAll(/<input([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(input!)?.[1];
      if (name !== undefined) fields.append(unescapeHtml(name), unescapeHtml(/value="([^"]*)"/.exec(input!)?.[1] ?? ''));
    }
    return { action: unescapeHtml(action), fields };
  }
  throw new Error(`no button "${buttonText}" on this page`);
}

export class FederatedPerson extends Person {
  /** Where the identity provider sent the browser back to, each time (our callback with code, state, iss). */
  readonly upstreamAnswers: URL[] = [];

  /** `subject`: who they are at `idp`; `displayName`: the provider's name on our sign-in page. */
  constructor(issuer: string, private readonly idp: UpstreamIdp, private readonly displayName: string, private readonly subject: string) {
    super(issuer, 'unused@federated.invalid', 'unused');
  }

  /** Presses "Continue with <display name>"; never types an email or a password here. */
  protected override signIn(_path: string, html: string): Promise<Response> {
    const { action, fields } = formOfButton(html, `Continue with ${this.displayName}`);
    return this.agent.post(this.localPath(action)).type('form').send(fields.toString());
  }

  protected override async elsewhere(next: URL): Promise<URL | undefined> {
    if (next.origin !== this.idp.issuer) return undefined;
    const answer = await this.idp.signInOverHttp(next.href, this.subject);
    if (answer.origin !== new URL(this.issuer).origin) throw new Error(`the identity provider sent the browser to ${answer.origin}, not back to us`);
    this.upstreamAnswers.push(answer);
    return answer;
  }
}
