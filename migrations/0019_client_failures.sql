-- 0019: each client's recent failed authorization and token requests, for the operator's diagnosis
-- (console Clients → Diagnose, `client diagnose`). Forward-only: never edit this file once landed.

-- One row per distinct failure of a known client: the same request failing again the same way bumps
-- `occurrences` and `last_at` instead of adding a row. `request` holds what was asked, capped and
-- cleaned by src/diagnostics/capture.ts (never a code, token, verifier, secret or assertion). The
-- writer keeps at most a few dozen rows per client (src/diagnostics/store.ts), so requests naming a
-- client cannot fill the database; the purge deletes rows not seen for 30 days.
CREATE TABLE client_failures (
  id                bigserial PRIMARY KEY,
  client_id         text NOT NULL,
  fingerprint       text NOT NULL,
  endpoint          text NOT NULL CHECK (endpoint IN ('authorization', 'token')),
  error             text NOT NULL,
  error_description text,
  error_detail      text,
  request           jsonb NOT NULL,
  first_at          timestamptz NOT NULL DEFAULT now(),
  last_at           timestamptz NOT NULL DEFAULT now(),
  occurrences       integer NOT NULL DEFAULT 1,
  UNIQUE (client_id, fingerprint)
);
CREATE INDEX client_failures_client_last ON client_failures (client_id, last_at DESC);
CREATE INDEX client_failures_last ON client_failures (last_at);
