-- 0005: Client ID Metadata Documents (MCP 2025-11-25): the fetched documents, shared by every server
-- process; grants to ask about again after a document changed; the operator's domain policy.
-- Forward-only: never edit this file once landed.

-- The last valid document seen for each URL client_id. `metadata` is the client metadata we derived
-- from it (what oidc-provider sees); fresh until `expires_at` (HTTP caching headers, within bounds),
-- kept afterwards as the baseline a refetched document is compared with.
CREATE TABLE client_metadata_documents (
  client_id     text PRIMARY KEY,
  metadata      jsonb NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  fetched_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  -- Last time the document's redirect_uris or client_name changed; null while they never have.
  changed_at    timestamptz
);

-- Grants given before their client's document changed what the person saw at consent: the next
-- authorization under such a grant shows the consent page again.
CREATE TABLE client_metadata_document_reconsents (
  grant_id   text PRIMARY KEY,
  client_id  text NOT NULL,
  flagged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX client_metadata_document_reconsents_client ON client_metadata_document_reconsents (client_id);

-- Which domains may serve metadata documents, set at runtime by `cimd policy` (one row; absent: the
-- CIMD_DOMAIN_POLICY setting applies) and `cimd allow` / `cimd deny` (one row per domain).
CREATE TABLE client_metadata_document_policy (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  mode       text NOT NULL CHECK (mode IN ('allow-all', 'allow-list', 'deny-list')),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE client_metadata_document_domains (
  domain     text PRIMARY KEY,
  rule       text NOT NULL CHECK (rule IN ('allow', 'deny')),
  created_at timestamptz NOT NULL DEFAULT now()
);
