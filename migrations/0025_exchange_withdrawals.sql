-- 0025: token exchange on a person's behalf (RFC 8693, issue 13 §3): the downstream services a person
-- withdrew from one of their grants, and the exchange grant for the MCP servers' existing clients.
-- Forward-only: never edit this file once landed.

-- One row per (grant, chain A → B) the person revoked in their portal: resource A may no longer exchange
-- tokens of that grant for tokens to B. The grant is an oidc-provider Grant (oidc_models, model 'Grant'):
-- no foreign key; a row of an ended grant is harmless (nothing is exchanged for a grant that is gone).
CREATE TABLE exchange_withdrawals (
  grant_id    text NOT NULL,
  from_uri    text NOT NULL,
  to_uri      text NOT NULL,
  account_id  text NOT NULL,
  withdrawn_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (grant_id, from_uri, to_uri)
);

-- The MCP server's own client (`client add --introspection --resource URI`) is the caller of the exchange:
-- clients registered before this migration get the grant type too (new ones are registered with it).
UPDATE oidc_models
SET payload = jsonb_set(payload, '{grant_types}',
  coalesce(payload->'grant_types', '[]'::jsonb) || '["urn:ietf:params:oauth:grant-type:token-exchange"]'::jsonb)
WHERE model = 'Client' AND payload ? 'portcullis_introspects'
  AND NOT coalesce(payload->'grant_types', '[]'::jsonb) ? 'urn:ietf:params:oauth:grant-type:token-exchange';
