// The only reader of process.env: every setting, its default and why, validated by zod at start.
// A bad value stops the server with a message naming the variable, never a stack trace.
import { resolve } from 'node:path';
import { z } from 'zod';

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const environmentSchema = z.object({
  // Where the server listens.
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  // The issuer identifier (RFC 8414 §2): every token's `iss`, the base of every endpoint. https in production.
  ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  // PostgreSQL connection string; absent → embedded PGlite in DATA_DIR (one process only).
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  // Embedded database and generated secrets live here.
  DATA_DIR: z.string().min(1).default('./.data'),
  // Comma-separated keys that sign cookies (first signs, all verify); generated into DATA_DIR when absent.
  COOKIE_KEYS: z.string().min(32, 'each cookie key needs at least 32 characters').optional(),
  // Encrypts signing keys' private halves at rest; generated into DATA_DIR when absent. Never stored in the DB.
  KEY_ENCRYPTION_SECRET: z.string().min(32, 'needs at least 32 characters').optional(),
  // Seconds in which a rotated refresh token may be presented again (an honest retry) without revoking the grant.
  REFRESH_GRACE_SECONDS: seconds(0, 60).default(10),
  // Default access-token lifetime for resources that set none (MCP: short-lived tokens); capped at 1 hour.
  ACCESS_TOKEN_TTL_SECONDS: seconds(30, 3600).default(300),
  // Authorization codes are single-use and short-lived (OAuth 2.1 §4.1.2 recommends ≤ 10 min; we use ≤ 60 s).
  AUTHORIZATION_CODE_TTL_SECONDS: seconds(10, 60).default(60),
  // Refresh-token lifetime (absolute, from the first issue of the chain).
  REFRESH_TOKEN_TTL_SECONDS: seconds(300, 365 * 24 * 3600).default(14 * 24 * 3600),
  // Signing algorithm for new access tokens; RS256 only for clients that cannot verify anything else.
  SIGNING_ALG: z.enum(['ES256', 'EdDSA', 'RS256']).default('ES256'),
  // How often expired rows are purged from the database.
  PURGE_INTERVAL_SECONDS: seconds(10, 24 * 3600).default(600),
  // Log level for the one-line request and startup logs.
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  // Trust X-Forwarded-* from a reverse proxy in front of us (for client IPs and https detection).
  TRUST_PROXY: booleanFlag.default(false),
});

export type Config = {
  port: number;
  issuer: string;
  databaseUrl: string | undefined;
  dataDir: string;
  cookieKeys: string[] | undefined;
  keyEncryptionSecret: string | undefined;
  refreshGraceSeconds: number;
  accessTokenTtlSeconds: number;
  authorizationCodeTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  signingAlg: 'ES256' | 'EdDSA' | 'RS256';
  purgeIntervalSeconds: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  trustProxy: boolean;
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
  // The issuer has no trailing slash: RFC 8414 compares it character for character.
  const issuer = (env.ISSUER ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  return {
    port: env.PORT,
    issuer,
    databaseUrl: env.DATABASE_URL,
    // Absolute, so messages name the real place and the CLI's socket path works from any folder.
    dataDir: resolve(env.DATA_DIR),
    cookieKeys: env.COOKIE_KEYS?.split(',').map((key) => key.trim()),
    keyEncryptionSecret: env.KEY_ENCRYPTION_SECRET,
    refreshGraceSeconds: env.REFRESH_GRACE_SECONDS,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    authorizationCodeTtlSeconds: env.AUTHORIZATION_CODE_TTL_SECONDS,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
    signingAlg: env.SIGNING_ALG,
    purgeIntervalSeconds: env.PURGE_INTERVAL_SECONDS,
    logLevel: env.LOG_LEVEL,
    trustProxy: env.TRUST_PROXY,
  };
}
