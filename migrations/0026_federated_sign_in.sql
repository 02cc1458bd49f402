-- 0026: the sign-in flow through an organisation's identity provider (issue 12). One row per sign-in sent
-- upstream, spent by the callback; accounts created on first federated sign-in have no password.
-- Forward-only: never edit this file once landed.

-- An authorization request we sent to an identity provider, bound to the interaction that asked for it (NULL:
-- a sign-in at /account, which has none; the browser binding is a cookie either way). The
-- callback deletes the row as it reads it (single use: a replayed or forged `state` finds nothing). The PKCE
-- verifier (RFC 7636) and the nonce (OIDC Core §3.1.2.1) live only here, and only until the callback or expiry.
-- No upstream token is ever stored.
CREATE TABLE federation_sign_in_attempts (
  state            text PRIMARY KEY,
  interaction_uid  text,
  provider_id      text NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
  nonce            text NOT NULL,
  code_verifier    text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL
);
CREATE INDEX federation_sign_in_attempts_expiry ON federation_sign_in_attempts (expires_at);

-- An account created by a federated sign-in has no password: it signs in only through its identities.
ALTER TABLE accounts ALTER COLUMN password_hash DROP NOT NULL;
