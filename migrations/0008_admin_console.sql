-- 0008: what the operator console and admin API need: resources an operator can disable or open to
-- listed clients only, the last metadata check of each resource, and admin API tokens. Forward-only.

-- A disabled resource, and a client not on a 'listed' resource's list, get invalid_target
-- (src/oidc/resource-servers.ts). 'any': every client may ask for tokens for it.
ALTER TABLE resources ADD COLUMN disabled_at timestamptz;
ALTER TABLE resources ADD COLUMN client_access text NOT NULL DEFAULT 'any' CHECK (client_access IN ('any', 'listed'));

CREATE TABLE resource_allowed_clients (
  resource_uri text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  client_id    text NOT NULL,
  PRIMARY KEY (resource_uri, client_id)
);

-- The last protected-resource-metadata check (RFC 9728) of each resource, run when the operator
-- registers, edits or re-checks it; the overview lists failing ones without fetching anything itself.
ALTER TABLE resources ADD COLUMN metadata_check jsonb;
ALTER TABLE resources ADD COLUMN metadata_checked_at timestamptz;

-- Bearer tokens for /admin/api, created and revoked with the CLI. Only a SHA-256 digest is kept, like
-- client secrets: the token is 256 random bits, shown once.
CREATE TABLE admin_api_tokens (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  token_digest text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

-- The overview's charts count events of a few types over the last 30 days.
CREATE INDEX audit_events_type_time ON audit_events (event_type, occurred_at);
