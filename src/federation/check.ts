// `idp test`: whether an OpenID provider's configuration will work, in plain words. openid-client's
// discovery fetches the document (OIDC Discovery 1.0 §4) and insists the issuer matches exactly (§4.3);
// jose loads the JWKS. Nothing is stored: this only reads what the provider publishes.
import * as client from 'openid-client';
import { createRemoteJWKSet } from 'jose';
import { GITHUB_API_BASE } from './presets.ts';
import type { IdentityProvider } from './store.ts';

export interface ProviderCheck { ok: boolean; problems: string[]; checked: string[] }

const TIMEOUT_SECONDS = 5;

function describeDiscoveryFailure(error: unknown, issuer: string): string {
  const code = (error as { code?: string }).code;
  const where = `${issuer}/.well-known/openid-configuration`;
  if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    const actual = (error as { cause?: { body?: { issuer?: unknown } } }).cause?.body?.issuer;
    return `issuer mismatch: ${where} names its issuer ${JSON.stringify(actual)}, not ${issuer} (they must match exactly, OIDC Discovery 1.0 §4.3)`;
  }
  if (code === 'OAUTH_RESPONSE_IS_NOT_JSON' || code === 'OAUTH_PARSE_ERROR') return `not JSON: ${where} did not answer with a JSON document`;
  if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    const status = (error as { cause?: { status?: number } }).cause?.status;
    return `${where} answered HTTP ${status ?? '?'} instead of a discovery document`;
  }
  if (code === 'OAUTH_INVALID_RESPONSE') return `not a discovery document: ${where} (${(error as Error).message})`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return `unreachable: ${where} could not be fetched (${reason})`;
}

export async function checkIdentityProvider(provider: IdentityProvider): Promise<ProviderCheck> {
  if (provider.kind === 'github' || provider.issuer === null) {
    // GitHub publishes no discovery document: its endpoints and API are fixed.
    return { ok: true, problems: [], checked: [`github: nothing to discover; sign-in will use ${GITHUB_API_BASE}`] };
  }
  const issuer = provider.issuer;
  const insecure = new URL(issuer).protocol === 'http:';
  let metadata: client.ServerMetadata;
  try {
    const config = await client.discovery(new URL(issuer), provider.clientId, undefined, undefined, {
      timeout: TIMEOUT_SECONDS, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
    });
    metadata = config.serverMetadata();
  } catch (error) {
    return { ok: false, problems: [describeDiscoveryFailure(error, issuer)], checked: [] };
  }
  const checked = [`discovery document: issuer ${issuer} matches`];
  const problems: string[] = [];
  // RFC 8414 §2: response_types_supported is required; code_challenge_methods_supported lists PKCE (RFC 7636).
  if (!(metadata.response_types_supported ?? []).includes('code')) problems.push('no authorization_code support: response_types_supported lacks "code"');
  const grants = metadata.grant_types_supported ?? ['authorization_code', 'implicit'];
  if (!grants.includes('authorization_code')) problems.push('no authorization_code support: grant_types_supported lacks "authorization_code"');
  if (!(metadata.code_challenge_methods_supported ?? []).includes('S256')) problems.push('no S256 support: code_challenge_methods_supported does not list S256 (PKCE, RFC 7636)');
  if (problems.length === 0) checked.push('authorization code flow with PKCE S256 supported');
  if (!metadata.jwks_uri) {
    problems.push('no jwks_uri: the discovery document names no key set, so ID tokens cannot be verified');
  } else {
    try {
      const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: TIMEOUT_SECONDS * 1000 });
      await jwks.reload();
      const keys = jwks.jwks()?.keys ?? [];
      if (keys.length === 0) problems.push(`no keys: ${metadata.jwks_uri} publishes an empty key set`);
      else checked.push(`jwks_uri ${metadata.jwks_uri}: ${keys.length} key(s)`);
    } catch (error) {
      problems.push(`jwks_uri ${metadata.jwks_uri} is unusable (${(error as Error).message})`);
    }
  }
  return { ok: problems.length === 0, problems, checked };
}
