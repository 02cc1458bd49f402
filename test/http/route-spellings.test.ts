// Every route of the app (our router's stack) and of oidc-provider (every route it registers), under every
// spelling of its path: only the canonical one reaches a handler; the others get a 308 to it (GET, HEAD) or a 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoveryAliasPaths } from '../../src/http/discovery.ts';
import { authorizeQuery, follow, pkcePair, REDIRECT_URI } from '../helpers/oauth-flow.ts';
import { recordProviderRoutes } from '../helpers/provider-route-recorder.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

interface Route { method: string; template: string }
interface Setup { app: TestApp; routes: Route[]; values: Record<string, string>; registrationToken: string }

const NOTES = notesResource();

/** The app at an issuer, its routes (ours from router.stack, oidc-provider's as it registers them) and real ids. */
async function setUp(issuer: string): Promise<Setup> {
  const recorder = recordProviderRoutes();
  let app: TestApp;
  try {
    app = await createTestApp({ ISSUER: issuer, METRICS_TOKEN: 'm'.repeat(40) });
  } finally {
    recorder.stop();
  }
  await app.addResource(NOTES);
  const mount = new URL(issuer).pathname.replace(/\/$/, '');
  const providerRoutes = recorder.routes.flatMap(({ method, template }) =>
    (method === 'GET' ? ['GET', 'HEAD'] : [method]).map((verb) => ({ method: verb, template: `${mount}${template}` })));
  const appRoutes = app.appRoutes().flatMap(({ methods, template }) => methods.map((method) => ({ method, template })));
  // The discovery aliases (RFC 8414 §3 path-inserted forms) are served by middleware, not by a router.
  const aliasRoutes = discoveryAliasPaths(mount).map((template) => ({ method: 'GET', template }));
  const registered = await app.http().post(`${mount}/reg`).send({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
  expect(registered.status).toBe(201);
  // A real interaction, so a spelling that got through would act on it.
  const page = await follow(app.browser(), `${mount}${authorizeQuery({
    clientId: registered.body.client_id as string, state: 's', resource: NOTES.uri, codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256',
  })}`);
  const uid = /\/interaction\/([^/?]+)/.exec(new URL(page.request.url).pathname)?.[1];
  expect(uid).toBeDefined();
  return {
    app, routes: [...appRoutes, ...providerRoutes, ...aliasRoutes],
    values: { clientId: registered.body.client_id as string, uid: uid!, id: 'someId1', uri: NOTES.uri, kid: 'someKid1' },
    registrationToken: registered.body.registration_access_token as string,
  };
}

const concrete = (template: string, values: Record<string, string>) =>
  template.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(values[name] ?? `value-of-${name}`));

const percentEncode = (char: string) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
const firstLetter = /[A-Za-z]/;

/** Spellings of `path` (the canonical spelling of `template`) that the routers might take for it. */
function misspellings(template: string, path: string): Array<[string, string]> {
  const literals = template.split('/');
  const segments = path.split('/');
  const isLiteral = (index: number) => !literals[index]!.startsWith(':') && firstLetter.test(literals[index]!);
  const withSegment = (index: number, replace: (segment: string) => string) =>
    segments.map((segment, i) => (i === index ? replace(segment) : segment)).join('/');
  const firstLiteral = segments.findIndex((_, i) => isLiteral(i));
  const letterAt = (segment: string) => segment.search(firstLetter);
  const encodeFirstLetter = (segment: string) => {
    const at = letterAt(segment);
    return `${segment.slice(0, at)}${percentEncode(segment[at]!)}${segment.slice(at + 1)}`;
  };
  const spellings: Array<[string, string]> = [
    ['upper case', segments.map((segment, i) => (isLiteral(i) ? segment.toUpperCase() : segment)).join('/')],
    ['one capital', withSegment(firstLiteral, (s) => `${s.slice(0, letterAt(s))}${s[letterAt(s)]!.toUpperCase()}${s.slice(letterAt(s) + 1)}`)],
    ['trailing slash', `${path}/`],
    ['leading double slash', `/${path}`],
    ['encoded letter', withSegment(firstLiteral, encodeFirstLetter)],
    ['dot segment', `/.${path}`],
    ['dot-dot segment', `/${segments[firstLiteral]}/..${path}`],
  ];
  if (segments.length > 2) spellings.push(['inner double slash', withSegment(segments.length - 1, (s) => `/${s}`)]);
  const param = literals.findIndex((literal, i) => literal.startsWith(':') && firstLetter.test(segments[i]!));
  if (param > 0) spellings.push(['encoded letter in a value', withSegment(param, encodeFirstLetter)]);
  // RFC 3986 §6.2.2.1: escapes are spelled in upper-case hex (a resource URI in the admin API carries %3A, %2F).
  if (/%[0-9A-F]?[A-F]/.test(path)) spellings.push(['lower-case escape', path.replace(/%([0-9A-F]?[A-F][0-9A-F]?)/, (escape) => escape.toLowerCase())]);
  return spellings.filter(([, spelling]) => spelling !== path);
}

/**
 * One request, carrying the registration access token of the client the paths name (so a DELETE or PUT
 * that got through would act); OPTIONS as a CORS preflight (what oidc-provider's OPTIONS routes answer).
 */
const send = (setup: Setup, method: string, path: string) => {
  const request = setup.app.http()[method.toLowerCase() as 'get'](path).ok(() => true).set('Authorization', `Bearer ${setup.registrationToken}`);
  return method === 'OPTIONS' ? request.set('Origin', 'https://app.example.com').set('Access-Control-Request-Method', 'POST') : request;
};

for (const issuer of ['http://localhost:4000', 'http://localhost:4000/oidc']) {
  describe(`every route, issuer ${issuer}`, () => {
    let setup: Setup;
    beforeAll(async () => { setup = await setUp(issuer); }, 120_000);
    afterAll(async () => setup?.app.close());

    it('finds the routes of both routers', () => {
      const names = setup.routes.map((route) => `${route.method} ${route.template}`);
      const mount = new URL(issuer).pathname.replace(/\/$/, '');
      expect(names).toEqual(expect.arrayContaining([
        `POST ${mount}/token`, `POST ${mount}/reg`, `PUT ${mount}/reg/:clientId`, `DELETE ${mount}/reg/:clientId`, `GET ${mount}/auth/:uid`,
        `POST ${mount}/interaction/:uid/login`, `POST ${mount}/account/login`, `POST ${mount}/admin/login`, `GET ${mount}/healthz`,
      ]));
      expect(setup.routes.length).toBeGreaterThan(60);
    });

    it('answers every other spelling of every route before its handler: 308 to the canonical one, or 404', async () => {
      const failures: string[] = [];
      for (const route of setup.routes) {
        const canonical = concrete(route.template, setup.values);
        const safe = route.method === 'GET' || route.method === 'HEAD';
        for (const [kind, spelling] of misspellings(route.template, canonical)) {
          const response = await send(setup, route.method, `${spelling}?probe=1`);
          const expected = safe ? `308 ${canonical}?probe=1` : '404 -';
          const seen = `${response.status} ${safe ? response.headers.location : '-'}`;
          if (seen !== expected) failures.push(`${route.method} ${spelling} (${kind}): ${seen}, expected ${expected}`);
        }
      }
      expect(failures).toEqual([]);
      // The client every misspelled PUT and DELETE named, with its token, is as it was registered.
      const mount = new URL(issuer).pathname.replace(/\/$/, '');
      const read = await setup.app.http().get(`${mount}/reg/${setup.values.clientId}`).set('Authorization', `Bearer ${setup.registrationToken}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
    }, 300_000);

    it('lets the canonical spelling of every route through to its handler', async () => {
      const stopped: string[] = [];
      for (const route of setup.routes) {
        const path = concrete(route.template, setup.values);
        const response = await send(setup, route.method, path);
        if (response.status === 308 || (response.status === 404 && response.text === 'Not Found')) stopped.push(`${route.method} ${path}: ${response.status}`);
      }
      expect(stopped).toEqual([]);
    }, 300_000);
  });
}
