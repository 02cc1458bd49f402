// The load generator process: closed-loop virtual users, each on its own keep-alive connection,
// running one scenario for a fixed time. Refresh chains and logged-in sessions live here between rounds.
import { performance } from 'node:perf_hooks';
import { serveCommands } from './child-process.ts';
import { HttpConnection } from './http-connection.ts';
import { CookieJar, exchangeCode, obtainCode, refreshGrant, type Browser } from './oauth-browser.ts';
import { RoundRecorder, type RoundResult } from './stats.ts';

const HOST = '127.0.0.1';

export interface FixedRequest {
  port: number;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface PortcullisTarget {
  port: number;
  clientId: string;
  resource: string;
  scope: string;
  email: string;
  password: string;
}

export interface Timing {
  concurrency: number;
  durationMs: number;
}

/** Runs `concurrency` users until the deadline; each finishes the operation it started. */
async function timedRound<User>(users: User[], durationMs: number, operation: (user: User) => Promise<void>,
  stopOnError = false): Promise<RoundResult> {
  const recorder = new RoundRecorder();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(users.map(async (user) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await operation(user);
        recorder.record(performance.now() - t0);
      } catch (error) {
        recorder.fail(error);
        if (stopOnError) return;
      }
    }
  }));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { ...recorder.summary(elapsedMs), generatorCpuMsPerS: (cpu.user + cpu.system) / elapsedMs };
}

const connections = (port: number, count: number) => Array.from({ length: count }, () => new HttpConnection(HOST, port));
const closeAll = (list: { close(): void }[]) => list.forEach((connection) => connection.close());

/** Runs `work` `count` times, one worker per connection (a connection carries one request at a time). */
async function onEachConnection<R>(count: number, pool: HttpConnection[], work: (connection: HttpConnection) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(pool.map(async (connection) => {
    while (next < count) {
      const index = next++;
      results[index] = await work(connection);
    }
  }));
  return results;
}

/** Refresh chains by name ('portcullis', or one a yardstick handed over): each entry is a chain's current token. */
export interface RefreshChains { port: number; clientId: string; tokens: string[] }
const refreshSets = new Map<string, RefreshChains>();
/** Signed-in browsers by name ('portcullis', or a yardstick's), with the server they are signed in to. */
const sessionSets = new Map<string, { target: PortcullisTarget; jars: CookieJar[] }>();

/** Authorization with a password login in a fresh browser, then the code exchange. */
async function fullFlowWithLogin(connection: HttpConnection, target: PortcullisTarget) {
  const browser: Browser = { connection, jar: new CookieJar() };
  const { code, verifier } = await obtainCode(browser, {
    clientId: target.clientId, resource: target.resource, scope: target.scope,
    credentials: { email: target.email, password: target.password },
  });
  return { tokens: await exchangeCode(connection, target.clientId, code, verifier), jar: browser.jar };
}

serveCommands({ pid: process.pid }, {
  /** The same request over and over (the yardsticks). */
  async fixed({ request, timing }: { request: FixedRequest; timing: Timing }) {
    const users = connections(request.port, timing.concurrency);
    const headers = { ...request.headers };
    const result = await timedRound(users, timing.durationMs, async (connection) => {
      const response = await connection.request(request.method, request.path, headers, request.body);
      if (response.status !== 200) throw new Error(`status ${response.status}`);
    });
    closeAll(users);
    return result;
  },

  /** One full flow (fresh browser, password login) per chain: the heads of the refresh chains. */
  async prepareRefresh({ target, chains, name = 'portcullis' }: { target: PortcullisTarget; chains: number; name?: string }) {
    const users = connections(target.port, 8);
    const tokens = await onEachConnection(chains, users, async (connection) => {
      const { tokens } = await fullFlowWithLogin(connection, target);
      if (!tokens.refresh_token) throw new Error('no refresh token issued');
      return tokens.refresh_token;
    });
    closeAll(users);
    refreshSets.set(name, { port: target.port, clientId: target.clientId, tokens });
    return { chains: tokens.length };
  },

  /** Chains started elsewhere (e.g. minted inside a yardstick server), replacing any of that name. */
  setChains({ name, chains }: { name: string; chains: RefreshChains }) {
    refreshSets.set(name, { ...chains, tokens: [...chains.tokens] });
    return { chains: chains.tokens.length };
  },

  /**
   * Each user presents its chain's current refresh token once and keeps the successor. With `ports`
   * (server processes of one deployment), users are spread over them in turn, one connection each.
   */
  async refresh({ timing, chains = 'portcullis', ports }: { timing: Timing; chains?: string; ports?: number[] }) {
    const set = refreshSets.get(chains);
    if (!set) throw new Error(`no refresh chains named ${chains}: prepareRefresh or setChains first`);
    const spread = ports ?? [set.port];
    const users = set.tokens.slice(0, timing.concurrency).map((token, index) =>
      ({ index, token, connection: new HttpConnection(HOST, spread[index % spread.length]!) }));
    // A failed refresh may have consumed the token: that chain stops rather than replaying it.
    const result = await timedRound(users, timing.durationMs, async (user) => {
      const tokens = await refreshGrant(user.connection, set.clientId, user.token);
      if (!tokens.refresh_token) throw new Error('refresh without a successor');
      user.token = tokens.refresh_token;
    }, true);
    for (const user of users) set.tokens[user.index] = user.token;
    closeAll(users.map((user) => user.connection));
    return { ...result, chainsAlive: users.length - result.errors };
  },

  /** Every token in `tokens` presented once (one refresh per grant, e.g. random ones of many), `concurrency` at a time. */
  async refreshEach({ port, clientId, tokens, concurrency }: { port: number; clientId: string; tokens: string[]; concurrency: number }) {
    const pool = connections(port, concurrency);
    const recorder = new RoundRecorder();
    const started = performance.now();
    await onEachConnection(tokens.length, pool, async (connection) => {
      const token = tokens.shift()!;
      const t0 = performance.now();
      try {
        const answer = await refreshGrant(connection, clientId, token);
        if (!answer.refresh_token) throw new Error('refresh without a successor');
        recorder.record(performance.now() - t0);
      } catch (error) {
        recorder.fail(error);
      }
    });
    closeAll(pool);
    return recorder.summary(performance.now() - started);
  },

  /** One browser per user, signed in once (its first flow), for the flows with an existing session. */
  async prepareSessions({ target, users, name = 'portcullis' }: { target: PortcullisTarget; users: number; name?: string }) {
    const pool = connections(target.port, 8);
    const jars = await onEachConnection(users, pool, async (connection) => (await fullFlowWithLogin(connection, target)).jar);
    closeAll(pool);
    sessionSets.set(name, { target, jars });
    return { sessions: jars.length };
  },

  /**
   * Whole flows: authorize → consent → code → token. With `login`, every flow is a fresh browser
   * that signs in with the password; without, each user's signed-in browser is reused and
   * prompt=consent makes every flow show and answer the consent page, unless `consentGiven`: then the
   * authorization answers with the code at once (the grant from the session's first flow stands).
   */
  async flows({ timing, login, consentGiven = false, name = 'portcullis' }: { timing: Timing; login: boolean; consentGiven?: boolean; name?: string }) {
    const sessions = sessionSets.get(name);
    if (!sessions) throw new Error(`prepareSessions ${name} first`);
    const { target } = sessions;
    const users = sessions.jars.slice(0, timing.concurrency).map((jar) =>
      ({ jar, connection: new HttpConnection(HOST, target.port) }));
    const result = await timedRound(users, timing.durationMs, async (user) => {
      if (login) {
        await fullFlowWithLogin(user.connection, target);
        return;
      }
      const { code, verifier } = await obtainCode({ connection: user.connection, jar: user.jar }, {
        clientId: target.clientId, resource: target.resource, scope: target.scope, ...(consentGiven ? {} : { extra: { prompt: 'consent' } }),
      });
      await exchangeCode(user.connection, target.clientId, code, verifier);
    });
    closeAll(users.map((user) => user.connection));
    return result;
  },
});
