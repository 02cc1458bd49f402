// The federated sign-in round trip (issue 12) with openid-client: authorization code + PKCE S256 (RFC 7636),
// `state` bound to our interaction and spent once, `nonce` (OIDC Core §3.1.2.1), RFC 9207 `iss` checked when
// the provider sends it (or says it will), the ID token validated (issuer, audience, signature, expiry, nonce).
// GitHub: OAuth only, the person's verified primary email read from its API. Upstream tokens are never kept.
import * as client from 'openid-client';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import { storedClaims } from './claims.ts';
import { resolveFederatedAccount, type FederatedOutcome, type RequestFacts, type UpstreamPerson } from './link.ts';
import { callbackUrl } from './service.ts';
import { insertAttempt, spendAttempt } from './sign-in-store.ts';
import { findProviderById, type IdentityProvider } from './store.ts';
import { githubEndpoints, upstreamConfiguration, UpstreamFetchError, type UpstreamDeps } from './upstream.ts';

export interface FlowDeps { db: Db; issuer: string; upstream: UpstreamDeps }

/** How long a person may take at the provider: as long as our interaction itself lives, at most. */
export const ATTEMPT_TTL_SECONDS = 600;

/** Words for the person; the audit row holds the technical reason. */
const PROVIDER_FAILED = (p: IdentityProvider) => `${p.displayName} could not sign you in just now. Try again, or ask your administrator.`;

async function providerError(deps: FlowDeps, provider: IdentityProvider, stage: string, error: unknown, facts: RequestFacts): Promise<never> {
  // Our fetch's refusal may arrive wrapped by openid-client (its `cause`).
  const refusedFetch = [error, (error as { cause?: unknown }).cause].find((e): e is UpstreamFetchError => e instanceof UpstreamFetchError);
  const reason = refusedFetch ? refusedFetch.failure.code : (error as { code?: string }).code ?? (error as Error).name ?? 'error';
  const upstreamError = (error as { error?: unknown }).error;
  // openid-client wraps oauth4webapi's error, whose message names the check that failed (nonce, iss, aud…).
  const cause = (error as { cause?: { message?: unknown } }).cause;
  const message = `${(error as Error).message ?? String(error)}${typeof cause?.message === 'string' ? `: ${cause.message}` : ''}`;
  await recordAuditEvent(deps.db, {
    type: 'federation.provider_error', outcome: 'failure', actor: { type: 'system' }, ...facts,
    details: {
      provider: provider.name, provider_id: provider.id, stage, reason: String(reason).slice(0, 100),
      ...(typeof upstreamError === 'string' ? { upstream_error: upstreamError.slice(0, 100) } : {}),
      message: message.slice(0, 300),
    },
  });
  throw new AppError('federation_failed', PROVIDER_FAILED(provider));
}

async function refused(deps: FlowDeps, provider: IdentityProvider | undefined, reason: string, message: string, facts: RequestFacts): Promise<never> {
  await recordAuditEvent(deps.db, {
    type: 'federation.refused', outcome: 'failure', actor: { type: 'user' }, ...facts,
    details: { reason, ...(provider ? { provider: provider.name, provider_id: provider.id } : {}) },
  });
  throw new AppError('federation_refused', message);
}

export interface StartedSignIn { authorizationUrl: string; state: string }

/** Sends this interaction's browser to the provider: a fresh state, nonce and PKCE verifier, stored until the callback. */
export async function startFederatedSignIn(
  deps: FlowDeps, provider: IdentityProvider, interactionUid: string | null, loginHint: string | undefined, facts: RequestFacts,
): Promise<StartedSignIn> {
  if (provider.disabledAt) return refused(deps, provider, 'provider_disabled', `Sign-in with ${provider.displayName} is turned off here.`, facts);
  let config: client.Configuration;
  try { config = await upstreamConfiguration(provider, deps.upstream); } catch (error) { return providerError(deps, provider, 'discovery', error, facts); }
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  await insertAttempt(deps.db, { state, interactionUid, providerId: provider.id, nonce, codeVerifier }, ATTEMPT_TTL_SECONDS);
  const parameters: Record<string, string> = {
    redirect_uri: callbackUrl(deps.issuer), scope: provider.scopes.join(' '), state,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    ...(provider.kind === 'oidc' ? { nonce } : {}),
    ...(loginHint ? { login_hint: loginHint } : {}),
  };
  return { authorizationUrl: client.buildAuthorizationUrl(config, parameters).href, state };
}

export interface Callback {
  /** The query string the provider sent back, as received. */
  query: string;
  /** The state this browser was given when it left (our cookie), if any: the login-CSRF binding. */
  boundState: string | undefined;
}

/** interactionUid null: the sign-in was started at /account. */
export interface FinishedSignIn extends FederatedOutcome { interactionUid: string | null; provider: IdentityProvider }

/** The callback: spends the attempt, checks the browser binding, redeems the code, and finds or makes the account. */
export async function finishFederatedSignIn(deps: FlowDeps, callback: Callback, facts: RequestFacts): Promise<FinishedSignIn> {
  const query = new URLSearchParams(callback.query);
  const state = query.get('state');
  if (!state || state.length > 200) return refused(deps, undefined, 'state_missing', 'This sign-in response carries no sign-in of ours. Start again from the application.', facts);
  // Spent before anything else is judged: whatever happens next, this state never works again.
  const attempt = await spendAttempt(deps.db, state);
  if (!attempt) return refused(deps, undefined, 'state_unknown', 'This sign-in response was already used or has expired. Start again from the application.', facts);
  const provider = await findProviderById(deps.db, attempt.providerId);
  if (!provider) return refused(deps, undefined, 'provider_removed', 'This identity provider was removed. Start again from the application.', facts);
  // Login CSRF: a response for a sign-in this browser did not start (someone else's code and state) is refused.
  if (callback.boundState !== state) return refused(deps, provider, 'state_not_this_browser', 'This sign-in response belongs to a sign-in that was not started in this browser. Start again from the application.', facts);
  if (provider.disabledAt) return refused(deps, provider, 'provider_disabled', `Sign-in with ${provider.displayName} is turned off here.`, facts);

  let config: client.Configuration;
  try { config = await upstreamConfiguration(provider, deps.upstream); } catch (error) { return providerError(deps, provider, 'discovery', error, facts); }
  const currentUrl = new URL(`${callbackUrl(deps.issuer)}?${query.toString()}`);
  let person: UpstreamPerson;
  try {
    const oidc = provider.kind === 'oidc';
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: state,
      ...(oidc ? { expectedNonce: attempt.nonce, idTokenExpected: true } : {}),
    });
    person = oidc ? await oidcPerson(config, provider, tokens) : await githubPerson(config, provider, deps.upstream, tokens.access_token);
  } catch (error) {
    return providerError(deps, provider, 'callback', error, facts);
  }
  const outcome = await resolveFederatedAccount(deps.db, provider, person, facts);
  return { ...outcome, interactionUid: attempt.interactionUid, provider };
}

type Tokens = Awaited<ReturnType<typeof client.authorizationCodeGrant>>;

/** The ID token's claims (validated by openid-client), completed by the UserInfo endpoint's (OIDC Core §5.3, same `sub`). */
async function oidcPerson(config: client.Configuration, provider: IdentityProvider, tokens: Tokens): Promise<UpstreamPerson> {
  const idToken = tokens.claims();
  if (!idToken) throw new Error('no ID token');
  let claims: Record<string, unknown> = { ...idToken };
  if (config.serverMetadata().userinfo_endpoint) {
    // openid-client refuses a UserInfo answer about another subject; the ID token's own claims win.
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
    claims = { ...userinfo, ...idToken };
  }
  const email = claims[provider.emailClaim];
  return {
    subject: idToken.sub,
    email: typeof email === 'string' ? email : undefined,
    // OIDC Core §5.1: email_verified is a JSON boolean; anything else is not a yes.
    emailVerified: claims.email_verified === true,
    claims: storedClaims(provider, claims),
  };
}

/** GitHub: the numeric user id is the subject; the email is the primary one GitHub says is verified (GET /user/emails). */
async function githubPerson(config: client.Configuration, provider: IdentityProvider, deps: UpstreamDeps, accessToken: string): Promise<UpstreamPerson> {
  const endpoints = githubEndpoints(deps);
  const headers = new Headers({ accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
  const user = await (await client.fetchProtectedResource(config, accessToken, new URL(endpoints.user), 'GET', undefined, headers)).json() as Record<string, unknown>;
  const emails = await (await client.fetchProtectedResource(config, accessToken, new URL(endpoints.emails), 'GET', undefined, headers)).json() as unknown;
  if (typeof user.id !== 'number' && typeof user.id !== 'string') throw new Error('GitHub /user has no id');
  const list = Array.isArray(emails) ? emails as Array<{ email?: unknown; primary?: unknown; verified?: unknown }> : [];
  const primary = list.find((entry) => entry.primary === true && entry.verified === true && typeof entry.email === 'string');
  const claims = { ...user, sub: String(user.id), ...(primary ? { email: primary.email } : {}) };
  return { subject: String(user.id), email: primary?.email as string | undefined, emailVerified: primary !== undefined, claims: storedClaims(provider, claims) };
}
