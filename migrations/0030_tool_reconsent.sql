-- 0030: re-consent when a scope gains tools of a higher risk (issue 14 §3, last sentence). A scope's level is
-- the highest risk among the approved tools behind it, never below the class the resource declares for it
-- (src/tools/reconsent.ts). When an approval raises it, the level is recorded here and every live grant holding
-- the scope for that resource is flagged: its next authorization shows the consent page again, saying why.
-- Forward-only: never edit this file once landed.

-- Per resource and scope: the level as of the last approval that changed it, and the tools that set it.
CREATE TABLE resource_scope_tool_levels (
  resource_uri  text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  scope         text NOT NULL,
  risk          text NOT NULL CHECK (risk IN ('read', 'write', 'irreversible')),
  changed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (resource_uri, scope)
);

-- A grant whose scope gained tools of a higher risk since the person agreed: `risk` the scope's new level,
-- `tools` the approved tools that raised it ([{"name", "title"}], titles cleaned as the consent page shows
-- them). Deleted when the person approves again; kept when they deny (the grant stays as it was). A grant
-- that ends leaves its row behind until the purge timer drops it (nothing reads a flag without its grant).
CREATE TABLE grant_tool_reconsents (
  grant_id      text NOT NULL,
  resource_uri  text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  scope         text NOT NULL,
  risk          text NOT NULL CHECK (risk IN ('read', 'write', 'irreversible')),
  tools         jsonb NOT NULL,
  flagged_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (grant_id, resource_uri, scope)
);
