-- 0015: no access token lives less than 120 s. MCP clients (mcp-remote among them) treat a token with
-- 60 s or less left as expired and refresh before every request; a resource set to a shorter lifetime
-- made them refresh on every call. Rows below the new floor are raised to it.
-- Forward-only: never edit this file once landed.

UPDATE resources SET access_token_ttl_seconds = 120 WHERE access_token_ttl_seconds < 120;

ALTER TABLE resources DROP CONSTRAINT IF EXISTS resources_access_token_ttl_seconds_check;
ALTER TABLE resources ADD CONSTRAINT resources_access_token_ttl_seconds_check
  CHECK (access_token_ttl_seconds BETWEEN 120 AND 3600);
