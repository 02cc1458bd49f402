-- 0024: the organisations' identity providers people may sign in with (issue 12), the email domains each
-- one claims, and the accounts linked to a provider's subjects (filled by the sign-in flow, which comes later).
-- Forward-only: never edit this file once landed.

-- One row per configured provider. `name` is what `--name` takes; the client secret is stored only as a
-- JWE (dir + A256GCM) under a key derived from KEY_ENCRYPTION_SECRET, as the signing keys' private halves are.
CREATE TABLE identity_providers (
  id                   text PRIMARY KEY,
  name                 text NOT NULL UNIQUE,
  display_name         text NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('oidc', 'github')),
  preset               text CHECK (preset IN ('google', 'entra', 'okta', 'github')),
  -- OpenID Connect Discovery 1.0 §4.3: the issuer the discovery document must name exactly; GitHub has none.
  issuer               text,
  tenant               text,
  client_id            text NOT NULL,
  client_secret_jwe    text NOT NULL,
  scopes               text[] NOT NULL,
  email_claim          text NOT NULL DEFAULT 'email',
  groups_claim         text,
  create_accounts      boolean NOT NULL DEFAULT true,
  sso_only             boolean NOT NULL DEFAULT false,
  -- Issue 13: whether ID-JAG assertions this provider issues are trusted.
  id_jag               boolean NOT NULL DEFAULT false,
  disabled_at          timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'oidc') = (issuer IS NOT NULL))
);

-- An email domain (normalised by src/cimd/host-name.ts) belongs to at most one provider: the primary key
-- refuses a second claim, so the sign-in page can route an address without ambiguity.
CREATE TABLE identity_provider_domains (
  domain       text PRIMARY KEY,
  provider_id  text NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE
);
CREATE INDEX identity_provider_domains_provider ON identity_provider_domains (provider_id);

-- A provider's subject (OIDC `sub`, GitHub's numeric user id) linked to one of our accounts; `sub` is
-- unique only per issuer (OIDC Core §2), hence the pair as the key.
CREATE TABLE federated_identities (
  provider_id      text NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
  subject          text NOT NULL,
  account_id       text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  email            text,
  claims           jsonb NOT NULL DEFAULT '{}'::jsonb,
  linked_at        timestamptz NOT NULL DEFAULT now(),
  last_sign_in_at  timestamptz,
  PRIMARY KEY (provider_id, subject)
);
CREATE INDEX federated_identities_account ON federated_identities (account_id);
