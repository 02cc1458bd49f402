-- 0001: accounts, registered resources, oidc-provider's models, signing keys and the audit trail.
-- Forward-only: never edit this file once landed; add 0002_… instead.

CREATE TABLE accounts (
  id            text PRIMARY KEY,
  email         text NOT NULL,
  password_hash text NOT NULL,
  is_admin      boolean NOT NULL DEFAULT false,
  disabled_at   timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails compare case-insensitively: one person, one account.
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

-- Protected resources (MCP servers) that tokens may be issued for: the RFC 8707 audience allow-list.
CREATE TABLE resources (
  uri                      text PRIMARY KEY,
  name                     text NOT NULL,
  access_token_ttl_seconds integer NOT NULL CHECK (access_token_ttl_seconds BETWEEN 30 AND 3600),
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE resource_scopes (
  resource_uri text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  scope        text NOT NULL,
  description  text NOT NULL DEFAULT '',
  risk         text NOT NULL CHECK (risk IN ('read', 'write', 'irreversible')),
  position     integer NOT NULL DEFAULT 0,
  PRIMARY KEY (resource_uri, scope)
);

-- Every oidc-provider model (Session, Interaction, Grant, AuthorizationCode, RefreshToken, Client, …)
-- in one table: the payload is the provider's, the other columns are what we look rows up or expire by.
CREATE TABLE oidc_models (
  model       text NOT NULL,
  id          text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  uid         text,
  user_code   text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_models_grant_id ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_models_uid ON oidc_models (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_models_user_code ON oidc_models (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_models_expires_at ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;

-- Token signing keys. The private JWK is stored only as a JWE encrypted with KEY_ENCRYPTION_SECRET.
CREATE TABLE signing_keys (
  kid                 text PRIMARY KEY,
  alg                 text NOT NULL,
  public_jwk          jsonb NOT NULL,
  private_jwk_jwe     text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  retired_at          timestamptz
);

-- Append-only record of security-relevant events. Never holds a token, code or password.
CREATE TABLE audit_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  event_type  text NOT NULL,
  account_id  text,
  client_id   text,
  resource    text,
  scopes      text,
  outcome     text NOT NULL DEFAULT 'success',
  ip          text,
  user_agent  text,
  request_id  text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_account ON audit_events (account_id, occurred_at) WHERE account_id IS NOT NULL;
