// The production image without a Docker engine: the Dockerfile's stages laid out as written (the build,
// then production dependencies only), the runtime stage started with its CMD and ENV as docker-compose runs it,
// checked with its own HEALTHCHECK, then discovery, the built CLI and one whole authorization-code flow.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createSandbox, REPO_ROOT, type Sandbox } from '../cli/harness.ts';
import { authorizeQuery, decide, follow, pkcePair, REDIRECT_URI, signIn } from '../helpers/oauth-flow.ts';
import { freePort } from '../helpers/free-port.ts';
import { PASSWORD } from '../helpers/test-app.ts';
import { stageImage, type StagedImage } from './dockerfile-stage.ts';

// docker-compose.yml's issuer; requests carry its Host, as a browser at http://localhost:4000 would.
const ISSUER = 'http://localhost:4000';
const RESOURCE = 'https://mcp.example.com/mcp';

let sandbox: Sandbox;
let image: StagedImage;
let environment: Record<string, string>;
let server: ChildProcess;
let output = '';
let baseUrl: string;

/** Runs an exec-form command of the image (CMD, HEALTHCHECK, `node dist/cli.js`) in its WORKDIR. */
const runInImage = (command: string[]) => spawnSync(command[0]!, command.slice(1), { cwd: image.appDir, env: environment, encoding: 'utf8' });

beforeAll(async () => {
  sandbox = await createSandbox();
  image = stageImage(REPO_ROOT, sandbox.env);
  const port = await freePort();
  // The image's ENV, then what docker-compose.yml sets; PORT and DATA_DIR moved to free, private places,
  // the database to the sandbox's (a PostgreSQL schema of its own when DATABASE_URL is set).
  environment = {
    PATH: sandbox.env.PATH!, HOME: sandbox.env.HOME!, ...image.env, ISSUER,
    PORT: String(port), DATA_DIR: join(mkdtempSync(join(tmpdir(), 'pc-image-data-')), 'data'),
    ...(sandbox.env.DATABASE_URL ? { DATABASE_URL: sandbox.env.DATABASE_URL } : {}),
  };
  server = spawn(image.command[0]!, image.command.slice(1), { cwd: image.appDir, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  server.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (runInImage(image.healthcheck).status !== 0) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the image's server did not become healthy:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 180_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  image?.cleanup();
  if (environment) rmSync(join(environment.DATA_DIR!, '..'), { recursive: true, force: true });
  await sandbox?.cleanup();
});

const agent = () => request.agent(baseUrl).set('Host', new URL(ISSUER).host);

describe('the production image, run as its Dockerfile says', () => {
  it('runs the built JavaScript with production dependencies only, under NODE_ENV=production', () => {
    expect(image.command).toEqual(['node', '--max-semi-space-size=32', 'dist/main.js']);
    expect(image.env.NODE_ENV).toBe('production');
    expect(existsSync(join(image.appDir, 'node_modules/oidc-provider'))).toBe(true);
    for (const devOnly of ['typescript', 'tsx', 'vitest', 'supertest', 'playwright-core']) {
      expect(existsSync(join(image.appDir, 'node_modules', devOnly)), devOnly).toBe(false);
    }
    // The kit resolves to its own build, not to TypeScript sources.
    expect(existsSync(join(image.appDir, 'packages/resource-server/dist/index.js'))).toBe(true);
    expect(existsSync(join(image.appDir, 'packages/resource-server/src'))).toBe(false);
    expect(existsSync(join(image.appDir, 'src'))).toBe(false);
  });

  it('answers its HEALTHCHECK, /readyz (every migration found and applied) and discovery under the issuer', async () => {
    expect(runInImage(image.healthcheck).status).toBe(0);
    const ready = await agent().get('/readyz');
    expect(ready.status, ready.text).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
    const metadata = await agent().get('/.well-known/oauth-authorization-server');
    expect(metadata.status).toBe(200);
    expect(metadata.body.issuer).toBe(ISSUER);
    expect(metadata.body.token_endpoint).toBe(`${ISSUER}/token`);
    expect(metadata.body.code_challenge_methods_supported).toEqual(['S256']);
    // The stylesheet the pages link: public/ is in the image.
    const stylesheet = await agent().get('/assets/style.css');
    expect(stylesheet.status).toBe(200);
    expect(stylesheet.headers['content-type']).toMatch(/^text\/css/);
  });

  it('runs a whole flow: the built CLI registers a person and a resource, a client signs in, consents and gets a JWT', async () => {
    for (const args of [
      ['user', 'add', '--email', 'ops@example.com', '--password', PASSWORD],
      ['resource', 'add', '--uri', RESOURCE, '--name', 'Notes', '--scope', 'notes:read=read', '--no-check'],
    ]) {
      const result = runInImage(['node', 'dist/cli.js', ...args]);
      expect(result.status, result.stderr).toBe(0);
    }
    const registered = await agent().post('/reg').send({ client_name: 'Image client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
    expect(registered.status, registered.text).toBe(201);
    const clientId = registered.body.client_id as string;

    const browser = agent();
    const pkce = pkcePair();
    let page = await follow(browser, authorizeQuery({ clientId, resource: RESOURCE, scope: 'notes:read', state: 'st', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
    expect(page.status, page.text).toBe(200);
    page = await signIn(browser, new URL(page.request.url).pathname, 'ops@example.com');
    page = await decide(browser, new URL(page.request.url).pathname, 'approve');
    expect(page.status, page.text).toBe(303);
    const code = new URL(page.headers.location as string).searchParams.get('code')!;

    const token = await agent().post('/token').type('form').send({
      grant_type: 'authorization_code', client_id: clientId, code, code_verifier: pkce.verifier, redirect_uri: REDIRECT_URI, resource: RESOURCE,
    });
    expect(token.status, token.text).toBe(200);
    const jwks = createRemoteJWKSet(new URL(`${baseUrl}/jwks`));
    const { payload } = await jwtVerify(token.body.access_token as string, jwks, { issuer: ISSUER, audience: RESOURCE });
    expect(payload.scope).toBe('notes:read');
  });

  it('stops on SIGTERM with exit 0, as `docker stop` sends it to node as PID 1', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited, output).toBe(0);
  });
});
