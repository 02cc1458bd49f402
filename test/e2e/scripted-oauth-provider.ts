// The MCP SDKs' OAuthClientProvider, kept in memory, whose "redirect the user" step hands the
// authorization URL to a person who answers it (over HTTP, or in a browser); the callback URL is kept
// for finishAuth.
import type { OAuthClientProvider as ProviderV2 } from '@modelcontextprotocol/client';
import type { OAuthClientProvider as ProviderV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { expect } from 'vitest';
import { acceptDefaults, type ConsentChoice, type Person } from './person.ts';

type Stored = Record<string, unknown>;

export class ScriptedOAuthProvider {
  /** Every authorization URL the client sent the person to. */
  readonly authorizationUrls: URL[] = [];
  /** Where the last authorization came back to (code, state, iss). */
  callback: URL | undefined;
  /** How the person answers the next consent page. */
  choose: ConsentChoice = acceptDefaults;
  private client: Stored | undefined;
  private tokenSet: Stored | undefined;
  private verifier = '';
  private discovery: unknown;

  /**
   * `clientMetadataUrl`: the client's metadata document (its client_id where the server supports
   * Client ID Metadata Documents); without it the SDK registers dynamically.
   */
  constructor(private readonly person: Pick<Person, 'authorize'>, readonly redirectUrl: string, readonly clientMetadataUrl?: string) {}

  get clientMetadata() {
    return {
      client_name: 'E2E MCP client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() { return this.client as never; }
  saveClientInformation(info: Stored) { this.client = info; }
  tokens() { return this.tokenSet as never; }
  saveTokens(tokens: Stored) { this.tokenSet = tokens; }
  saveCodeVerifier(verifier: string) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
  // v2 binds the callback leg to the authorization server it discovered (SEP-2352).
  saveDiscoveryState(state: unknown) { this.discovery = state; }
  discoveryState() { return this.discovery as never; }

  async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
    this.callback = await this.person.authorize(url, this.choose);
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.tokenSet = undefined;
    if (scope === 'all' || scope === 'client') this.client = undefined;
  }

  get accessToken(): string {
    return String(this.tokenSet?.access_token ?? '');
  }

  asV1(): ProviderV1 { return this as unknown as ProviderV1; }
  asV2(): ProviderV2 { return this as unknown as ProviderV2; }
}

/**
 * Runs `action`, which must stop for an authorization (the client sent the person to `issuer` once more,
 * and the person came back with a code and RFC 9207 `iss`); then lets the transport redeem the code.
 */
export async function authorizeThenFinish(issuer: string, action: () => Promise<unknown>, oauth: ScriptedOAuthProvider,
  finish: (callback: URL) => Promise<void>) {
  const before = oauth.authorizationUrls.length;
  await expect(action()).rejects.toThrow();
  expect(oauth.authorizationUrls.length, 'the client should have sent the person to authorize').toBe(before + 1);
  const callback = oauth.callback!;
  expect(callback.searchParams.get('iss')).toBe(issuer);
  expect(callback.searchParams.get('code'), callback.href).toEqual(expect.any(String));
  await finish(callback);
}
