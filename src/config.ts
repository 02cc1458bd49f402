// The only reader of process.env: every setting, its default and why, validated by zod at start.
// A bad value stops the server with a message naming the variable, never a stack trace.
import { resolve } from 'node:path';
import { z } from 'zod';
import type { LoginThrottlePolicy } from './accounts/login-throttle.ts';
import type { RateLimitConfig } from './rate-limit/limits.ts';
import { DOMAIN_POLICY_MODES, domainName, type ConfiguredDomainPolicy } from './cimd/domain-policy.ts';
import { MIN_ACCESS_TOKEN_TTL_SECONDS } from './resources/schema.ts';
import { TRACE_SAMPLERS, type TracingSettings } from './telemetry/settings.ts';

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const environmentSchema = z.object({
  // Where the server listens.
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  // The address it listens on: an IP literal or a host name. Unset, Node's default: every interface, IPv6
  // and IPv4 where the machine has them, as before this setting existed (and as a container needs);
  // `127.0.0.1` keeps a development server off the network.
  HOST: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: 'must be an IP address or a host name, without a scheme or port' }).optional(),
  // The issuer identifier (RFC 8414 §2): every token's `iss`, the base of every endpoint. https in production.
  ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  // PostgreSQL connection string; absent → embedded PGlite in DATA_DIR (one process only).
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  // The longest one database statement, or the wait for a pooled connection (or PGlite's queue), may take
  // before the request gets 503 + Retry-After: a slow database fails fast instead of queueing requests.
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  // The longest a request may run before it is answered 503 + Retry-After, whatever it waits on.
  REQUEST_DEADLINE_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  // Embedded database and generated secrets live here.
  DATA_DIR: z.string().min(1).default('./.data'),
  // Comma-separated keys that sign cookies (first signs, all verify); generated into DATA_DIR when absent.
  COOKIE_KEYS: z.string().min(32, 'each cookie key needs at least 32 characters').optional(),
  // Encrypts signing keys' private halves at rest; generated into DATA_DIR when absent. Never stored in the DB.
  KEY_ENCRYPTION_SECRET: z.string().min(32, 'needs at least 32 characters').optional(),
  // Seconds in which a rotated refresh token may be presented again (an honest retry) without revoking the grant.
  REFRESH_GRACE_SECONDS: seconds(0, 60).default(10),
  // How long a resource read from the database serves authorization and token requests before it is read
  // again: a resource registered, changed or disabled elsewhere (CLI, console, another process) takes
  // effect within this long. 0 reads it on every request.
  RESOURCE_CACHE_SECONDS: seconds(0, 300).default(2),
  // Default access-token lifetime for resources that set none (MCP: short-lived tokens); capped at 1 hour,
  // at least 120 s so clients that refresh with 60 s left do not refresh on every call.
  ACCESS_TOKEN_TTL_SECONDS: seconds(MIN_ACCESS_TOKEN_TTL_SECONDS, 3600).default(300),
  // Authorization codes are single-use and short-lived (OAuth 2.1 §4.1.2 recommends ≤ 10 min; we use ≤ 60 s).
  AUTHORIZATION_CODE_TTL_SECONDS: seconds(10, 60).default(60),
  // Refresh-token lifetime (absolute, from the first issue of the chain).
  REFRESH_TOKEN_TTL_SECONDS: seconds(300, 365 * 24 * 3600).default(14 * 24 * 3600),
  // Signing algorithm for new access tokens; RS256 only for clients that cannot verify anything else.
  SIGNING_ALG: z.enum(['ES256', 'EdDSA', 'RS256']).default('ES256'),
  // How often expired rows are purged from the database.
  PURGE_INTERVAL_SECONDS: seconds(10, 24 * 3600).default(600),
  // How often the server lists every resource's tools again (tools/list) to find drift (issue 14); 0 turns it off.
  TOOL_INVENTORY_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(7 * 24 * 3600).default(3600),
  // One inventory's deadline (connect, initialize, every tools/list page) and the size cap of each answer.
  TOOL_INVENTORY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  TOOL_INVENTORY_MAX_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
  // How often a server checks the database for rotated or retired signing keys (one tiny query); at most a
  // minute, because retiring a key allows for a server still signing with the old one that long.
  KEY_REFRESH_SECONDS: seconds(1, 60).default(5),
  // How long a rotated key is published before it signs: longer than a resource server's JWKS refetch
  // cooldown (30 s in the kit and jose) plus KEY_REFRESH_SECONDS, so none refuses the first new token.
  KEY_PUBLISH_AHEAD_SECONDS: seconds(0, 86400).default(60),
  // Log level for the one-line request and startup logs.
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  // A request an existing grant covers skips the consent page (`remember`), native apps included;
  // `every-time` asks native apps (loopback or custom-scheme redirects) on every authorization, as
  // RFC 8252 §8.6 advises where other local software is a concern (any local app can claim a loopback port).
  NATIVE_CLIENT_CONSENT: z.enum(['every-time', 'remember']).default('remember'),
  // Trust X-Forwarded-* from a reverse proxy in front of us (for client IPs and https detection).
  TRUST_PROXY: booleanFlag.default(false),
  // With TRUST_PROXY: how many proxies append to X-Forwarded-For; the client is that many entries from the
  // right, never an entry further left, which the client itself can write.
  TRUST_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
  // Failed sign-ins allowed per email (known or not, so the limit reveals nothing) per window; slows guessing one password.
  LOGIN_MAX_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).max(1000).default(5),
  // Failed sign-ins allowed per client IP (IPv6: per /64) per window; slows one source trying many emails.
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100000).default(20),
  // The window the two limits count over, opened by a bucket's first failure.
  LOGIN_THROTTLE_WINDOW_SECONDS: seconds(60, 24 * 3600).default(900),
  // Password checks (Argon2id, ~19 MiB and ~12 ms each) running at once per process; more are refused at
  // once with 429 + Retry-After, so a flood of failed sign-ins from many addresses cannot queue real ones.
  LOGIN_MAX_CONCURRENT_PASSWORD_CHECKS: z.coerce.number().int().min(1).max(1000).default(8),
  // Development only: metadata documents (URL client_ids) may be fetched from loopback addresses. Warned at start.
  CIMD_ALLOW_LOOPBACK: booleanFlag.default(false),
  // Which domains may serve metadata documents; the CLI (`cimd policy`) overrides it at runtime.
  CIMD_DOMAIN_POLICY: z.enum(DOMAIN_POLICY_MODES).default('allow-all'),
  // Comma-separated domains for the allow-list or deny-list that CIMD_DOMAIN_POLICY names (subdomains included).
  CIMD_DOMAINS: z.string().optional().transform((value, ctx) => {
    const domains = (value ?? '').split(',').map((domain) => domain.trim()).filter(Boolean);
    return domains.map((domain) => {
      const parsed = domainName.safeParse(domain);
      if (!parsed.success) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(domain)} ${parsed.error.issues[0]?.message}` });
      return parsed.data ?? domain;
    });
  }),
  // Where GitHub's OAuth pages and REST API are, for `--preset github` identity providers. Only a test or a
  // GitHub Enterprise Server changes them (GHES: https://HOST and https://HOST/api/v3).
  GITHUB_WEB_URL: z.url({ protocol: /^https?$/ }).default('https://github.com'),
  GITHUB_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
  // Development only: a PEM file of extra CA certificates trusted when fetching metadata documents.
  CIMD_CA_FILE: z.string().min(1).optional(),
  // Presented as a Bearer token at /reg, lets a confidential client self-register (RFC 7591 §3); without
  // it only public clients can. Open registration for public clients stays on either way (MCP clients need it).
  REGISTRATION_INITIAL_ACCESS_TOKEN: z.string().min(32, 'needs at least 32 characters').optional(),
  // Registration requests allowed per client IP (IPv6: per /64) per window, refused ones included.
  REGISTRATION_MAX_PER_IP: z.coerce.number().int().min(1).max(100000).default(60),
  // The window REGISTRATION_MAX_PER_IP counts over, opened by a bucket's first request.
  REGISTRATION_RATE_WINDOW_SECONDS: seconds(60, 24 * 3600).default(3600),
  // Self-registered clients that obtain no token within this long are deleted (open registration invites junk).
  DCR_UNUSED_CLIENT_TTL_SECONDS: seconds(3600, 365 * 24 * 3600).default(7 * 24 * 3600),
  // Audit events older than this are deleted by the purge timer (evidence kept a year by default).
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(365),
  // Bearer token that unlocks /metrics; unset, /metrics does not exist (its labels name clients and resources).
  METRICS_TOKEN: z.string().min(32, 'needs at least 32 characters').optional(),
  // Token requests per client IP (IPv6: per /64) and per client per window; shared across processes. A client
  // counts only requests that spoke for it (tokens issued, or its secret or key shown), so strangers cannot spend it.
  TOKEN_RATE_MAX_PER_IP: z.coerce.number().int().min(1).max(10_000_000).default(600),
  TOKEN_RATE_MAX_PER_CLIENT: z.coerce.number().int().min(1).max(10_000_000).default(3000),
  TOKEN_RATE_WINDOW_SECONDS: seconds(1, 3600).default(60),
  // Sign-ins started at /auth per client IP (IPv6: per /64) per window: each stores a pending interaction
  // (generous: one office behind NAT is one address).
  AUTH_MAX_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(300),
  AUTH_RATE_WINDOW_SECONDS: seconds(1, 3600).default(60),
  // Pending interactions (sign-ins started, not finished, not expired) allowed at once across all addresses:
  // a flood from many addresses cannot grow the database without bound; past it /auth answers 429.
  AUTH_MAX_PENDING_INTERACTIONS: z.coerce.number().int().min(10).max(10_000_000).default(50_000),
  // Client metadata document fetches per document host (we must not hammer a site) and per requesting IP.
  CIMD_FETCH_MAX_PER_HOST: z.coerce.number().int().min(1).max(100_000).default(100),
  // A host's fetches one requesting IP may spend: well below the host's total, so one address cannot use it up.
  CIMD_FETCH_MAX_PER_HOST_PER_IP: z.coerce.number().int().min(1).max(100_000).default(10),
  CIMD_FETCH_MAX_PER_IP: z.coerce.number().int().min(1).max(100_000).default(30),
  CIMD_FETCH_WINDOW_SECONDS: seconds(1, 3600).default(60),
  // Redis for the rate-limit counters of the token endpoint and metadata fetches; unset: the database.
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  // Prefix of every Redis key we write (several deployments, or tests, can share one Redis).
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('portcullis:rl:'),
  // OpenTelemetry traces over OTLP/HTTP (src/telemetry/), off unless an endpoint is set: the standard
  // variables, so a collector's usual setup works. The signal's own endpoint is used as given; the
  // general one gets /v1/traces appended (OTLP exporter spec).
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  // The standard switch that turns the SDK off whatever the endpoints say.
  OTEL_SDK_DISABLED: booleanFlag.default(false),
  // service.name on every span.
  OTEL_SERVICE_NAME: z.string().min(1).max(200).default('portcullis'),
  // Which traces are kept (the SDK's standard sampler names); the ratio for the *traceidratio ones.
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
});

export type Config = {
  port: number;
  host: string | undefined;
  issuer: string;
  databaseUrl: string | undefined;
  dbStatementTimeoutMs: number;
  requestDeadlineMs: number;
  dataDir: string;
  cookieKeys: string[] | undefined;
  keyEncryptionSecret: string | undefined;
  refreshGraceSeconds: number;
  resourceCacheSeconds: number;
  accessTokenTtlSeconds: number;
  authorizationCodeTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  signingAlg: 'ES256' | 'EdDSA' | 'RS256';
  purgeIntervalSeconds: number;
  /** The tool inventory (issue 14): how often it runs (0: never, only on demand), its deadline and size cap. */
  tools: { intervalSeconds: number; timeoutMs: number; maxBytes: number };
  keyRefreshSeconds: number;
  keyPublishAheadSeconds: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  trustProxy: boolean;
  trustProxyHops: number;
  loginThrottle: LoginThrottlePolicy;
  nativeClientConsent: 'every-time' | 'remember';
  cimd: { allowLoopback: boolean; domainPolicy: ConfiguredDomainPolicy; caFile: string | undefined };
  /** Sign-in through identity providers (src/federation/): where GitHub is. */
  federation: { githubWebUrl: string; githubApiUrl: string };
  registration: { initialAccessToken: string | undefined; maxPerIp: number; windowSeconds: number; unusedClientTtlSeconds: number };
  auditRetentionDays: number;
  metricsToken: string | undefined;
  rateLimits: RateLimitConfig;
  /** undefined: tracing off, nothing of the OpenTelemetry SDK is loaded. */
  tracing: TracingSettings | undefined;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates configuration; throws ConfigError listing every bad variable. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  // A list without a mode would silently allow everything: the operator clearly meant to restrict.
  if (env.CIMD_DOMAINS.length > 0 && env.CIMD_DOMAIN_POLICY === 'allow-all') {
    throw new ConfigError('Invalid configuration:\n  CIMD_DOMAINS: set CIMD_DOMAIN_POLICY to allow-list or deny-list to say what the list means');
  }
  // The issuer has no trailing slash: RFC 8414 compares it character for character.
  const issuer = (env.ISSUER ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  return {
    port: env.PORT,
    host: env.HOST,
    issuer,
    databaseUrl: env.DATABASE_URL,
    dbStatementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    requestDeadlineMs: env.REQUEST_DEADLINE_MS,
    // Absolute, so messages name the real place and the CLI's socket path works from any folder.
    dataDir: resolve(env.DATA_DIR),
    cookieKeys: env.COOKIE_KEYS?.split(',').map((key) => key.trim()),
    keyEncryptionSecret: env.KEY_ENCRYPTION_SECRET,
    refreshGraceSeconds: env.REFRESH_GRACE_SECONDS,
    resourceCacheSeconds: env.RESOURCE_CACHE_SECONDS,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    authorizationCodeTtlSeconds: env.AUTHORIZATION_CODE_TTL_SECONDS,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
    signingAlg: env.SIGNING_ALG,
    purgeIntervalSeconds: env.PURGE_INTERVAL_SECONDS,
    tools: { intervalSeconds: env.TOOL_INVENTORY_INTERVAL_SECONDS, timeoutMs: env.TOOL_INVENTORY_TIMEOUT_MS, maxBytes: env.TOOL_INVENTORY_MAX_BYTES },
    keyRefreshSeconds: env.KEY_REFRESH_SECONDS,
    keyPublishAheadSeconds: env.KEY_PUBLISH_AHEAD_SECONDS,
    logLevel: env.LOG_LEVEL,
    trustProxy: env.TRUST_PROXY,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    loginThrottle: {
      maxFailuresPerEmail: env.LOGIN_MAX_FAILURES_PER_EMAIL,
      maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
      windowSeconds: env.LOGIN_THROTTLE_WINDOW_SECONDS,
      maxConcurrentPasswordChecks: env.LOGIN_MAX_CONCURRENT_PASSWORD_CHECKS,
    },
    nativeClientConsent: env.NATIVE_CLIENT_CONSENT,
    cimd: {
      allowLoopback: env.CIMD_ALLOW_LOOPBACK,
      domainPolicy: { mode: env.CIMD_DOMAIN_POLICY, domains: env.CIMD_DOMAINS },
      caFile: env.CIMD_CA_FILE ? resolve(env.CIMD_CA_FILE) : undefined,
    },
    federation: { githubWebUrl: env.GITHUB_WEB_URL.replace(/\/+$/, ''), githubApiUrl: env.GITHUB_API_URL.replace(/\/+$/, '') },
    registration: {
      initialAccessToken: env.REGISTRATION_INITIAL_ACCESS_TOKEN,
      maxPerIp: env.REGISTRATION_MAX_PER_IP,
      windowSeconds: env.REGISTRATION_RATE_WINDOW_SECONDS,
      unusedClientTtlSeconds: env.DCR_UNUSED_CLIENT_TTL_SECONDS,
    },
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    metricsToken: env.METRICS_TOKEN,
    rateLimits: {
      tokenMaxPerIp: env.TOKEN_RATE_MAX_PER_IP,
      tokenMaxPerClient: env.TOKEN_RATE_MAX_PER_CLIENT,
      tokenWindowSeconds: env.TOKEN_RATE_WINDOW_SECONDS,
      authMaxPerIp: env.AUTH_MAX_PER_IP,
      authWindowSeconds: env.AUTH_RATE_WINDOW_SECONDS,
      authMaxPendingInteractions: env.AUTH_MAX_PENDING_INTERACTIONS,
      cimdFetchMaxPerHost: env.CIMD_FETCH_MAX_PER_HOST,
      cimdFetchMaxPerHostPerIp: env.CIMD_FETCH_MAX_PER_HOST_PER_IP,
      cimdFetchMaxPerIp: env.CIMD_FETCH_MAX_PER_IP,
      cimdFetchWindowSeconds: env.CIMD_FETCH_WINDOW_SECONDS,
      redisUrl: env.REDIS_URL,
      redisKeyPrefix: env.REDIS_KEY_PREFIX,
    },
    tracing: tracingSettings(env),
  };
}

function tracingSettings(env: z.infer<typeof environmentSchema>): TracingSettings | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT && `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (!endpoint || env.OTEL_SDK_DISABLED) return undefined;
  return { endpoint, serviceName: env.OTEL_SERVICE_NAME, sampler: env.OTEL_TRACES_SAMPLER, samplerRatio: env.OTEL_TRACES_SAMPLER_ARG };
}
