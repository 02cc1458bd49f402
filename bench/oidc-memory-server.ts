// The "oidc-provider in memory" yardstick, in its own process: a bare oidc-provider (default in-memory
// adapter) set up like src/oidc/provider.ts for the refresh path, with refresh-token chains minted in
// process, and the least login and consent pages its interaction API allows (interaction-pages.ts), so
// whole flows can be measured on oidc-provider alone: no database, no page templates, no audit trail.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import Provider, { type Configuration } from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import { serveCommands } from './child-process.ts';
import { REDIRECT_URI } from './oauth-browser.ts';
import { BENCH_RESOURCE, BENCH_SCOPE } from './fixtures.ts';
import { handleInteraction } from './interaction-pages.ts';

const CLIENT_ID = 'bench-memory-client';
const RESOURCE = BENCH_RESOURCE.uri;
const REFRESH_TTL_SECONDS = 14 * 24 * 3600;
const epoch = () => Math.floor(Date.now() / 1000);

// Listen first: the issuer names the port, and oidc-provider builds URLs from the request's Host.
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };

const configuration: Configuration = {
  jwks: { keys: [signingKey] as NonNullable<Configuration['jwks']>['keys'] },
  clients: [{
    client_id: CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], id_token_signed_response_alg: 'ES256',
  }],
  cookies: { keys: ['k'.repeat(40)] },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  scopes: ['openid', 'offline_access'],
  responseTypes: ['code'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: () => ({
        scope: BENCH_SCOPE, audience: RESOURCE, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } },
      }),
      useGrantedResource: () => true,
      defaultResource: () => RESOURCE,
    },
  },
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: () => false,
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
    Grant: REFRESH_TTL_SECONDS,
    // As ours (src/oidc/provider.ts): an hour for an interaction, 14 days for a session.
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    // Absolute lifetime from the first token of the chain, as ours.
    RefreshToken: (_ctx, token) =>
      Math.max(1, (typeof token.iiat === 'number' ? token.iiat : epoch()) + REFRESH_TTL_SECONDS - epoch()),
  },
};

const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
const oidc = provider.callback();
server.on('request', (req, res) => {
  void handleInteraction(provider, req, res, RESOURCE).then((handled) => {
    if (!handled) void oidc(req, res);
  }).catch((error: unknown) => {
    res.statusCode = 500;
    res.end(String(error));
  });
});

/** A grant for the resource and the first refresh token of its chain, as a code exchange would leave them. */
async function newChain(): Promise<string> {
  const accountId = randomUUID();
  const grant = new provider.Grant({ accountId, clientId: CLIENT_ID });
  grant.addResourceScope(RESOURCE, BENCH_SCOPE);
  const grantId = await grant.save();
  const client = await provider.Client.find(CLIENT_ID);
  if (!client) throw new Error(`client ${CLIENT_ID} not found`);
  const token = new provider.RefreshToken({ accountId, client, grantId, scope: BENCH_SCOPE, resource: RESOURCE, gty: 'authorization_code' });
  return token.save();
}

serveCommands({ port, clientId: CLIENT_ID, resource: RESOURCE }, {
  cpu: () => process.cpuUsage(),
  /** `n` fresh chains: each is a refresh token never presented yet. */
  async chains({ n }: { n: number }) {
    const tokens: string[] = [];
    for (let i = 0; i < n; i += 1) tokens.push(await newChain());
    return tokens;
  },
}, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
