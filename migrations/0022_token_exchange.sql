-- 0022: the token-exchange chains an operator allowed (RFC 8693): resource A (an MCP server) may exchange a
-- person's token for one to resource B, with at most these scopes. Forward-only: never edit this file once landed.

-- One row per allowed chain A → B; `resource deny-exchange` deletes it. Deleting either resource deletes its
-- chains: a chain naming a resource that no longer exists allows nothing.
CREATE TABLE exchange_chains (
  from_uri    text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  to_uri      text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  scopes      text[] NOT NULL CHECK (cardinality(scopes) > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (from_uri, to_uri),
  CHECK (from_uri <> to_uri)
);
CREATE INDEX exchange_chains_to ON exchange_chains (to_uri);
