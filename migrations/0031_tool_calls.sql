-- 0031: every tool call, end to end (issue 14 §6): what each kit-protected MCP server reports of the tools/calls
-- it admitted or refused. Never the arguments themselves: their SHA-256 over canonical JSON only. Kept as long
-- as audit events (AUDIT_RETENTION_DAYS; src/audit/retention.ts purges both). Forward-only: never edit.
CREATE TABLE tool_calls (
  id               bigserial PRIMARY KEY,
  resource_uri     text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  occurred_at      timestamptz NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  -- `sub` of the token (NULL when it had none: an introspected client-credentials token).
  subject          text,
  client_id        text NOT NULL,
  -- A grant id when the token carried one; Portcullis's own tokens do not, so the portal matches a grant by
  -- (subject, client_id, resource_uri) instead.
  grant_id         text,
  tool             text NOT NULL,
  arguments_digest text NOT NULL,
  decision         text NOT NULL CHECK (decision IN ('allowed', 'insufficient_scope', 'refused_by_pin', 'refused_by_budget')),
  duration_ms      integer NOT NULL CHECK (duration_ms >= 0),
  result_bytes     bigint CHECK (result_bytes >= 0)
);
CREATE INDEX tool_calls_person ON tool_calls (subject, client_id, resource_uri, occurred_at DESC);
CREATE INDEX tool_calls_resource ON tool_calls (resource_uri, client_id, occurred_at DESC);
CREATE INDEX tool_calls_occurred ON tool_calls (occurred_at);
