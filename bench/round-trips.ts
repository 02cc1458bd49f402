// Database round trips for one code exchange and one refresh, counted in process over countingDb:
// deterministic, so test/bench/round-trips.test.ts can pin them and bench/run.ts print them.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { addAccount } from '../src/accounts/store.ts';
import { addResource } from '../src/resources/store.ts';
import { countingDb, type RoundTripSnapshot } from '../src/db/counting-db.ts';
import type { Db } from '../src/db/db.ts';
import { flushAuditWrites } from '../src/oidc/audit-events.ts';
import { HttpConnection } from './http-connection.ts';
import { CookieJar, exchangeCode, obtainCode, refreshGrant, registerPublicClient } from './oauth-browser.ts';

export const BENCH_RESOURCE = {
  uri: 'https://mcp.example.com/mcp',
  name: 'Bench MCP',
  scopes: [
    { scope: 'notes:read', risk: 'read' as const, description: 'Read your notes' },
    { scope: 'notes:write', risk: 'write' as const, description: 'Add notes' },
  ],
};
export const BENCH_SCOPE = 'notes:read notes:write';
export const BENCH_PASSWORD = 'correct horse battery staple';

/** Budgets per grant type (reads, consumes, writes); a measurement above one is a regression. */
export const ROUND_TRIP_BUDGETS = {
  codeExchange: { read: 1, consume: 1, write: 2 },
  refresh: { read: 1, consume: 0, write: 2 },
} as const;

export interface TokenRoundTrips {
  codeExchange: RoundTripSnapshot;
  refresh: RoundTripSnapshot;
}

/**
 * Runs a real app over `db` (migrated, empty), drives one authorization up to the code, then counts
 * the statements of one POST /token for the code and one for the refresh token it returned. Audit
 * writes made beside each response are awaited first, so they are counted with their request.
 */
export async function measureTokenRoundTrips(db: Db): Promise<TokenRoundTrips> {
  const counting = countingDb(db);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const connection = new HttpConnection('127.0.0.1', port);
  try {
    const config = loadConfig({ ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent' });
    const secrets = { cookieKeys: ['k'.repeat(40)], keyEncryptionSecret: 's'.repeat(40) };
    const { app } = await createApp({ config, db: counting, secrets });
    server.on('request', app.callback());
    await addResource(db, BENCH_RESOURCE, config.accessTokenTtlSeconds);
    const account = await addAccount(db, { email: 'bench@example.com', password: BENCH_PASSWORD });

    const clientId = await registerPublicClient(connection);
    const { code, verifier } = await obtainCode({ connection, jar: new CookieJar() }, {
      clientId, resource: BENCH_RESOURCE.uri, scope: BENCH_SCOPE,
      credentials: { email: account.email, password: BENCH_PASSWORD },
    });

    await flushAuditWrites();
    counting.reset();
    const tokens = await exchangeCode(connection, clientId, code, verifier);
    await flushAuditWrites();
    const codeExchange = counting.snapshot();
    if (!tokens.refresh_token) throw new Error('the code exchange returned no refresh token');

    counting.reset();
    await refreshGrant(connection, clientId, tokens.refresh_token);
    await flushAuditWrites();
    const refresh = counting.snapshot();
    return { codeExchange, refresh };
  } finally {
    connection.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** One line per statement, abbreviated: for reports and for the test's output. */
export function describeStatements(snapshot: RoundTripSnapshot, width = 150): string[] {
  return snapshot.statements.map((statement, index) => {
    const sql = statement.sql.length > width ? `${statement.sql.slice(0, width - 1)}…` : statement.sql;
    const model = statement.model ? `[${statement.model}] ` : '';
    return `${String(index + 1).padStart(2)}. ${statement.kind.padEnd(7)} ${model}${sql}`;
  });
}
