-- 0028: the resources whose irreversible scopes an operator lets through the ID-JAG grant (issue 13 §1:
-- "irreversible scopes never this way unless the operator allows it per resource"). Forward-only: never
-- edit this file once landed.

-- One row per resource that allows it; `idjag-resource deny-irreversible` deletes the row. Deleting the
-- resource deletes its row, so a resource registered again later starts from the safe default.
CREATE TABLE id_jag_irreversible_resources (
  resource_uri text PRIMARY KEY REFERENCES resources (uri) ON DELETE CASCADE,
  allowed_at   timestamptz NOT NULL DEFAULT now()
);
