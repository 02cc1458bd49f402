// The usual cause of a failed authorization or token request, in plain words, with the fix: read from the
// OAuth error, oidc-provider's internal detail and what was asked, against what is registered now. Pure.
import type { FailedRequest } from './capture.ts';
import { describeDifference, nearestRegistered } from './near-miss.ts';

export type FailureCause =
  | 'redirect_uri_not_registered' | 'redirect_uri_differs_from_authorization'
  | 'resource_not_registered' | 'resource_disabled' | 'resource_client_not_allowed' | 'resource_missing'
  | 'resource_multiple' | 'resource_differs_from_grant'
  | 'scope_not_declared' | 'scope_not_granted'
  | 'pkce_missing' | 'pkce_plain' | 'pkce_verifier_mismatch' | 'pkce_verifier_missing'
  | 'refresh_token_replayed' | 'refresh_token_unknown_or_expired'
  | 'code_replayed' | 'code_unknown_or_expired' | 'grant_of_another_client'
  | 'client_auth_failed' | 'client_auth_method_mismatch' | 'grant_type_not_allowed'
  | 'access_denied' | 'interaction_required'
  | 'other';

export interface Explanation {
  cause: FailureCause;
  /** What went wrong, in the operator's words. */
  summary: string;
  /** What the client's developer (or the operator) changes so the next request succeeds. */
  fix: string;
}

/** A failure as the explainer reads it: whose it is does not change its cause. */
export type ExplainedFailure = Omit<FailedRequest, 'clientId'>;

/** What is registered now: the client's redirect URIs, and every resource with its declared scopes. */
export interface RegistrationFacts {
  redirectUris: readonly string[];
  resources: readonly { uri: string; scopes: readonly string[]; disabled: boolean }[];
}

// oidc-provider's own scopes: never declared by a resource, always known.
const PROVIDER_SCOPES = new Set(['openid', 'offline_access']);
const quoted = (value: string | undefined) => JSON.stringify(value ?? '');
const has = (text: string | undefined, fragment: string) => text?.includes(fragment) ?? false;

function redirectUriNotRegistered(failure: ExplainedFailure, facts: RegistrationFacts): Explanation {
  const sent = failure.request.redirect_uri;
  const registered = facts.redirectUris.length > 0 ? facts.redirectUris.map((uri) => quoted(uri)).join(', ') : 'none';
  const miss = sent ? nearestRegistered(sent, facts.redirectUris) : undefined;
  const how = miss ? ` It nearly matches ${quoted(miss.registered)}: it ${miss.differences.map(describeDifference).join(' and ')}.` : '';
  return {
    cause: 'redirect_uri_not_registered',
    summary: `The redirect_uri ${quoted(sent)} is not one the client registered (registered: ${registered}).${how} Redirect URIs must match exactly; only a loopback address may change its port (RFC 8252 §7.3).`,
    fix: miss
      ? `Send exactly ${quoted(miss.registered)}, or register ${quoted(sent)} as well (a self-registered client registers again with it).`
      : `Send one of the registered redirect URIs, or register ${quoted(sent)} (a self-registered client registers again with it).`,
  };
}

function resourceNotRegistered(failure: ExplainedFailure, facts: RegistrationFacts): Explanation {
  const sent = failure.request.resource?.[0];
  const miss = sent ? nearestRegistered(sent, facts.resources.map((r) => r.uri)) : undefined;
  const how = miss ? ` It nearly matches the registered ${quoted(miss.registered)}: it ${miss.differences.map(describeDifference).join(' and ')}.` : '';
  return {
    cause: 'resource_not_registered',
    summary: `The resource ${quoted(sent)} is not a registered MCP server.${how} Letter case in the scheme and host and a trailing slash are forgiven here; any other difference is another resource (RFC 8707).`,
    fix: miss
      ? `Make the MCP server's protected resource metadata (its "resource" field) and the URL clients connect to say ${quoted(miss.registered)}, or register ${quoted(sent)} with \`resource add\`.`
      : `Register the MCP server with \`resource add --uri ${sent ?? 'URI'}\`, or point the client at a registered one.`,
  };
}

function invalidTarget(failure: ExplainedFailure, facts: RegistrationFacts): Explanation {
  const description = failure.errorDescription;
  const sent = quoted(failure.request.resource?.[0]);
  if (has(description, 'is not registered here')) return resourceNotRegistered(failure, facts);
  if (has(description, 'is disabled')) {
    return { cause: 'resource_disabled', summary: `The resource ${sent} is disabled on this server.`, fix: 'Enable it in the console (Resources) if it should serve clients again.' };
  }
  if (has(description, 'may not obtain tokens')) {
    return {
      cause: 'resource_client_not_allowed', summary: `The resource ${sent} accepts only the clients on its list, and this client is not on it.`,
      fix: 'Add the client to the resource\'s allowed clients in the console (Resources), if it should have access.',
    };
  }
  if (has(description, 'resource is required')) {
    return {
      cause: 'resource_missing', summary: 'The request named no resource, and more than one is registered, so the server cannot choose the token\'s audience.',
      fix: 'The client must send the `resource` parameter (RFC 8707) with the MCP server\'s URL, on the authorization and the token request.',
    };
  }
  if (has(description, 'one resource at a time')) {
    return { cause: 'resource_multiple', summary: 'The request named several resources; each access token here has exactly one audience.', fix: 'Send one `resource` per authorization; a client that needs two servers authorizes for each.' };
  }
  if (has(description, 'differs from the one this grant was authorized for')) {
    return {
      cause: 'resource_differs_from_grant', summary: `The token request's resource ${sent} is not the one the code or refresh token was issued for.`,
      fix: 'Send the same `resource` on the token request as on the authorization request (or leave it out on a refresh).',
    };
  }
  return other(failure);
}

function invalidScope(failure: ExplainedFailure, facts: RegistrationFacts): Explanation {
  const requested = (failure.request.scope ?? '').split(' ').filter((s) => s !== '' && !PROVIDER_SCOPES.has(s));
  const named = new Set(failure.request.resource ?? []);
  // A refresh usually names no resource: it is for the granted one, which may be any registered one.
  const resources = facts.resources.filter((r) => named.size === 0 || named.has(r.uri));
  const declared = new Set(resources.flatMap((r) => r.scopes));
  const undeclared = requested.filter((s) => !declared.has(s));
  if (undeclared.length > 0) {
    const where = named.size === 1 ? `resource ${quoted([...named][0])}` : 'any registered resource';
    return {
      cause: 'scope_not_declared',
      summary: `The scope ${undeclared.join(' ')} is not declared by ${where}, so no token can carry it.`,
      fix: `Declare it on the resource (console Resources, or \`resource add --scope ${undeclared[0]}=RISK\`) if the MCP server checks it; otherwise the client must stop asking for it (its scopes come from the server's scopes_supported).`,
    };
  }
  return {
    cause: 'scope_not_granted',
    summary: `The refresh asked for scope ${quoted(failure.request.scope)}, more than the person approved for this grant.`,
    fix: 'Refresh without `scope`, or with only the approved scopes; for more, the client sends the person through authorization again (step-up).',
  };
}

function pkce(failure: ExplainedFailure): Explanation {
  if (has(failure.errorDescription, 'requires PKCE')) {
    return {
      cause: 'pkce_missing', summary: 'The authorization request carried no code_challenge: PKCE is required for every client here (OAuth 2.1, MCP authorization).',
      fix: 'Send code_challenge (the SHA-256 of a random code_verifier, base64url) with code_challenge_method=S256, and the code_verifier on the token request.',
    };
  }
  return {
    cause: 'pkce_plain',
    summary: `The code_challenge_method was ${quoted(failure.request.code_challenge_method ?? 'absent (which means plain)')}; only S256 is accepted.`,
    fix: 'Send code_challenge_method=S256 with code_challenge = BASE64URL(SHA-256(code_verifier)).',
  };
}

function invalidGrant(failure: ExplainedFailure): Explanation {
  const detail = failure.errorDetail;
  if (has(detail, 'code_verifier must be provided')) {
    return { cause: 'pkce_verifier_missing', summary: 'The token request carried no code_verifier, though the authorization sent a code_challenge.', fix: 'Send the code_verifier whose SHA-256 was the code_challenge.' };
  }
  if (has(detail, 'code_verifier') || has(detail, 'PKCE')) {
    return {
      cause: 'pkce_verifier_mismatch', summary: 'The code_verifier does not match the code_challenge sent with the authorization request.',
      fix: 'Send the code_verifier generated for this very authorization (not one from an earlier attempt or another tab).',
    };
  }
  if (has(detail, 'refresh token already used')) {
    return {
      cause: 'refresh_token_replayed',
      summary: 'A refresh token was used again after it had been exchanged for a new one (outside the short retry grace). This looks like a stolen token, so the whole grant was revoked.',
      fix: 'The client must keep the newest refresh token from each response, and not share one between processes. The person connects the client again; if the client did nothing wrong, treat the old token as leaked.',
    };
  }
  if (has(detail, 'refresh token not found') || has(detail, 'refresh token is expired')) {
    return {
      cause: 'refresh_token_unknown_or_expired',
      summary: 'The refresh token is unknown or expired: its grant ended (revoked, replayed, disabled) or it outlived REFRESH_TOKEN_TTL_SECONDS.',
      fix: 'The client drops the refresh token and sends the person through authorization again.',
    };
  }
  if (has(detail, 'already consumed') || has(detail, 'already used')) {
    return {
      cause: 'code_replayed', summary: 'The authorization code was presented a second time. Codes are single-use; the grant it created was revoked.',
      fix: 'The client must exchange each code once, and not retry a token request that succeeded. The person connects the client again.',
    };
  }
  if (has(detail, 'authorization code not found') || has(detail, 'authorization code is expired')) {
    return {
      cause: 'code_unknown_or_expired', summary: 'The authorization code is unknown or expired (codes live 60 seconds).',
      fix: 'Exchange the code at once, and exactly as received in the redirect (not URL-decoded twice or cut short).',
    };
  }
  if (has(detail, 'redirect_uri mismatch')) {
    return {
      cause: 'redirect_uri_differs_from_authorization', summary: `The token request's redirect_uri ${quoted(failure.request.redirect_uri)} is not the one sent with the authorization request.`,
      fix: 'Send the same redirect_uri, character for character, on both requests.',
    };
  }
  if (has(detail, 'client mismatch')) {
    return { cause: 'grant_of_another_client', summary: 'The code or refresh token was issued to another client.', fix: 'Each client uses only the codes and tokens issued to its own client_id.' };
  }
  return other(failure);
}

function invalidClient(failure: ExplainedFailure): Explanation {
  const used = failure.request.client_auth ?? 'unknown';
  if (has(failure.errorDetail, 'does not match the registered client authentication method')) {
    return {
      cause: 'client_auth_method_mismatch', summary: `The client authenticated with ${used}, which is not the method it registered.`,
      fix: 'Authenticate with the registered token_endpoint_auth_method (`client list` shows it): a public client sends only client_id, a confidential one its secret in HTTP Basic.',
    };
  }
  return {
    cause: 'client_auth_failed',
    summary: `Client authentication failed (${failure.errorDetail ?? 'no detail'}; sent with ${used}).`,
    fix: 'Check the client secret (it is shown once, at `client add`; register the client again if it was lost) and that it is sent as registered, URL-encoded inside HTTP Basic (RFC 6749 §2.3.1).',
  };
}

function other(failure: ExplainedFailure): Explanation {
  return {
    cause: 'other',
    summary: `${failure.error}: ${failure.errorDescription ?? 'no description'}${failure.errorDetail ? ` (${failure.errorDetail})` : ''}.`,
    fix: 'No usual cause matches: compare the request above with the client\'s registration and the MCP server\'s metadata.',
  };
}

/** The usual cause of one failure, against what is registered now. */
export function explainFailure(failure: ExplainedFailure, facts: RegistrationFacts): Explanation {
  switch (failure.error) {
    case 'invalid_redirect_uri': return redirectUriNotRegistered(failure, facts);
    case 'invalid_target': return invalidTarget(failure, facts);
    case 'invalid_scope': return invalidScope(failure, facts);
    case 'invalid_grant': return invalidGrant(failure);
    case 'invalid_client': return invalidClient(failure);
    case 'unauthorized_client':
    case 'unsupported_grant_type':
      return { cause: 'grant_type_not_allowed', summary: `The grant type ${quoted(failure.request.grant_type)} is not one this client may use.`, fix: 'Use authorization_code (with PKCE) and refresh_token, or register the client with the grant types it needs.' };
    case 'access_denied':
      return {
        cause: 'access_denied', summary: `The authorization was refused: ${failure.errorDescription ?? 'access_denied'}. Usually the person declined at the consent page.`,
        fix: 'Nothing to fix if the person meant it; a client that asks for less (fewer or lower-risk scopes) is declined less often.',
      };
    case 'login_required':
    case 'consent_required':
    case 'interaction_required':
      return {
        cause: 'interaction_required', summary: `The client asked not to show any page (prompt=none), but ${failure.error === 'consent_required' ? 'the person has not approved it yet' : 'the person must sign in or answer first'}.`,
        fix: 'The client falls back to an authorization without prompt=none, so the person can sign in and consent.',
      };
    case 'invalid_request':
      if (has(failure.errorDescription, 'PKCE') || has(failure.errorDescription, 'code_challenge')) return pkce(failure);
      if (has(failure.errorDescription, 'grant type is not allowed')) {
        return { cause: 'grant_type_not_allowed', summary: `The grant type ${quoted(failure.request.grant_type)} is not one this client registered.`, fix: 'Register the client with the grant types it uses (authorization_code and refresh_token for MCP clients).' };
      }
      return other(failure);
    default: return other(failure);
  }
}
