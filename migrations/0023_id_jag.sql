-- 0023: Enterprise-Managed Authorization (MCP ext-auth, SEP-990): the issuers trusted to sign ID-JAGs
-- and the single-use record of their `jti`s. Forward-only: never edit this file once landed.

-- One row per trusted ID-JAG issuer; exactly one key source: a JWKS URL (fetched SSRF-safely) or an
-- operator-supplied JWKS document. A later `idp add --id-jag` adds rows to this same table.
CREATE TABLE id_jag_issuers (
  issuer     text PRIMARY KEY,
  jwks_uri   text,
  jwks       jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((jwks_uri IS NULL) <> (jwks IS NULL))
);

-- Replay detection shared by every server process (RFC 7523 §3 item 7): the exchange inserts
-- (issuer, jti) and fails if the row exists. Rows outlive the assertion's expiry, then the purge drops them.
CREATE TABLE id_jag_used_jtis (
  issuer     text NOT NULL,
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (issuer, jti)
);
CREATE INDEX id_jag_used_jtis_expires ON id_jag_used_jtis (expires_at);

-- The person an (issuer, subject) pair stands for (the extension: `iss`+`sub` is unique).
CREATE TABLE id_jag_subjects (
  issuer     text NOT NULL REFERENCES id_jag_issuers (issuer) ON DELETE CASCADE,
  subject    text NOT NULL,
  account_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer, subject)
);
