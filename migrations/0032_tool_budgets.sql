-- 0032: tool budgets (issue 14 §7): at most `max_calls` calls per `per_seconds` of one tool, or of every tool of a
-- risk class, per grant (per sub + client when the token names no grant), enforced by the kit; and a cap on the
-- size of a tool's result. Forward-only: never edit this file once landed.
CREATE TABLE resource_tool_budgets (
  id           bigserial PRIMARY KEY,
  resource_uri text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  tool         text,
  risk         text CHECK (risk IN ('read', 'write', 'irreversible')),
  max_calls    integer NOT NULL CHECK (max_calls BETWEEN 1 AND 1000000),
  per_seconds  integer NOT NULL CHECK (per_seconds BETWEEN 1 AND 31536000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Exactly one of a tool or a risk class.
  CHECK ((tool IS NULL) <> (risk IS NULL))
);
CREATE UNIQUE INDEX resource_tool_budgets_tool ON resource_tool_budgets (resource_uri, tool) WHERE tool IS NOT NULL;
CREATE UNIQUE INDEX resource_tool_budgets_risk ON resource_tool_budgets (resource_uri, risk) WHERE risk IS NOT NULL;

-- The largest JSON result, in bytes, the kit lets a tool return (NULL: no cap).
ALTER TABLE resource_tool_settings ADD COLUMN max_result_bytes integer CHECK (max_result_bytes > 0);
