-- 0027: the organisation's least-privilege policies (issue 12): which people may approve which resource, up
-- to which risk class, decided by a claim of their federated identity (or their email domain).
-- Forward-only: never edit this file once landed.

-- One row per rule: "people whose CLAIM has VALUE may approve scopes up to MAX_RISK on RESOURCE". A resource
-- with no row is unrestricted; with rows, a person gets the highest max_risk among the rows that match them,
-- and none at all when no row matches (src/policies/evaluate.ts). `id` is what `policy remove --id` takes.
CREATE TABLE resource_policies (
  id            text PRIMARY KEY,
  resource_uri  text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  claim         text NOT NULL,
  value         text NOT NULL,
  max_risk      text NOT NULL CHECK (max_risk IN ('read', 'write', 'irreversible')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- The same claim and value twice on one resource would be two answers to one question.
  UNIQUE (resource_uri, claim, value)
);
