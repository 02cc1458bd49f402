-- 0029: tool governance (issue 14, sections 1-3): each resource's MCP tools as Portcullis last saw them
-- (tools/list), the definitions an operator approved (the pins), the drift found between the two, and the
-- resource's drift policy. Forward-only: never edit this file once landed.

-- Per resource: what the kit does with a changed or new write/irreversible tool ('block' refuses its calls
-- until approved, 'warn' lets them through with a warning), and how the last inventory went.
CREATE TABLE resource_tool_settings (
  resource_uri       text PRIMARY KEY REFERENCES resources (uri) ON DELETE CASCADE,
  drift_policy       text NOT NULL DEFAULT 'block' CHECK (drift_policy IN ('block', 'warn')),
  last_refresh_at    timestamptz,
  -- NULL after a successful tools/list; otherwise why it failed (the server down, a refused token ...).
  last_refresh_error text
);

-- The catalog as last listed: one row per tool the server serves now. `definition` is the tool as the
-- server described it (title, description, inputSchema, outputSchema, annotations, scopes), `digest` its
-- SHA-256 over canonical JSON (packages/resource-server/src/tool-digest.ts), the value the kit compares.
CREATE TABLE resource_tools (
  resource_uri  text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  name          text NOT NULL,
  definition    jsonb NOT NULL,
  digest        text NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (resource_uri, name)
);

-- The pins: the definitions an operator approved. A tool listed now whose digest differs is `changed`;
-- one with no row is `new`; a row with no listed tool is `removed`.
CREATE TABLE resource_tool_approvals (
  resource_uri  text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  name          text NOT NULL,
  definition    jsonb NOT NULL,
  digest        text NOT NULL,
  approved_at   timestamptz NOT NULL DEFAULT now(),
  approved_by   text NOT NULL,
  PRIMARY KEY (resource_uri, name)
);

-- Each difference found by an inventory, with its readable diff: kept as the drift's history (the
-- audit trail has the same event), and shown until the tool is approved again.
CREATE TABLE resource_tool_drift (
  id            bigserial PRIMARY KEY,
  resource_uri  text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  name          text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('new', 'changed', 'removed')),
  digest        text,
  diff          text NOT NULL,
  detected_at   timestamptz NOT NULL DEFAULT now(),
  resolved_at   timestamptz
);
CREATE INDEX resource_tool_drift_open ON resource_tool_drift (resource_uri, name) WHERE resolved_at IS NULL;
