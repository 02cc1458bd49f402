// The yardsticks, each in its own process: "bare" koa answering a small JSON, and "sign" koa that
// parses a urlencoded form (@koa/bodyparser) and signs one ES256 JWT (jose) per request.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { generateKeyPair, SignJWT } from 'jose';
import { serveCommands } from './child-process.ts';

const mode = process.env.YARDSTICK_MODE;
const app = new Koa();

if (mode === 'bare') {
  app.use((ctx) => {
    ctx.body = { status: 'ok' };
  });
} else if (mode === 'sign') {
  // Generated once at start, as a server loads its signing key once.
  const { privateKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  app.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));
  app.use(async (ctx) => {
    const form = (ctx.request.body ?? {}) as Record<string, string>;
    const accessToken = await new SignJWT({ scope: 'notes:read notes:write', client_id: form.client_id })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .setIssuer('http://127.0.0.1')
      .setAudience('https://mcp.example.com/mcp')
      .setSubject(randomUUID())
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    ctx.body = { access_token: accessToken, token_type: 'Bearer', expires_in: 300 };
  });
} else {
  throw new Error(`YARDSTICK_MODE must be bare or sign, got ${mode}`);
}

const server = createServer(app.callback());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
serveCommands({ port: (server.address() as AddressInfo).port }, {
  cpu: () => process.cpuUsage(),
});
