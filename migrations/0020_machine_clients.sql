-- 0020: machine clients (MCP ext-auth OAuth Client Credentials, SEP-1046): what an operator-registered
-- client that acts as itself may obtain with the client_credentials grant. Forward-only: never edit once landed.

-- One row per machine client (its oidc_models 'Client' row holds its credentials): the one resource its
-- tokens name, the scopes the operator allows there, and whether irreversible scopes may be among them.
-- Deleting the resource removes the binding; the client then gets no token (invalid_target).
CREATE TABLE machine_clients (
  client_id          text PRIMARY KEY,
  resource_uri       text NOT NULL REFERENCES resources (uri) ON DELETE CASCADE,
  scopes             text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 100),
  allow_irreversible boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX machine_clients_resource ON machine_clients (resource_uri);
