-- 0006: the client lifecycle (when each client last obtained a token, whether the operator disabled it)
-- and the per-IP counter that rate-limits dynamic client registration. Forward-only: never edit once landed.

-- One row per client that has obtained a token or been disabled. When a client was first seen is not
-- here: it is the client's client_id_issued_at (registered clients) or its metadata document's
-- first_seen_at (0005). A disabled client's oidc_models row is also parked under model 'DisabledClient',
-- where oidc-provider never looks, so it is refused as unknown (invalid_client) at no extra query.
CREATE TABLE client_lifecycle (
  client_id    text PRIMARY KEY,
  last_used_at timestamptz,
  disabled_at  timestamptz
);

-- "Last used" comes from the audit trail: every token.issued row marks its client used. The token
-- endpoint writes its audit rows in batches (src/audit/writer.ts), so this adds no round trip to a grant;
-- a client marked within the last minute is not written (nor locked) again, so hot clients cost nothing.
CREATE FUNCTION client_lifecycle_mark_used() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE client_lifecycle AS l SET last_used_at = now()
  FROM (SELECT DISTINCT client_id FROM issued WHERE event_type = 'token.issued' AND client_id IS NOT NULL) AS used
  WHERE l.client_id = used.client_id AND (l.last_used_at IS NULL OR l.last_used_at < now() - interval '1 minute');
  INSERT INTO client_lifecycle (client_id, last_used_at)
  SELECT DISTINCT client_id, now() FROM issued WHERE event_type = 'token.issued' AND client_id IS NOT NULL
  ON CONFLICT (client_id) DO NOTHING;
  RETURN NULL;
END;
$$;

CREATE TRIGGER audit_events_mark_client_used
  AFTER INSERT ON audit_events REFERENCING NEW TABLE AS issued
  FOR EACH STATEMENT EXECUTE FUNCTION client_lifecycle_mark_used();

-- Disabling or deleting a client ends its grants: find them by client without scanning every grant.
CREATE INDEX oidc_models_grant_client ON oidc_models ((payload->>'clientId')) WHERE model = 'Grant';

-- Registrations per client IP ('ip:<address or IPv6 /64>') in a fixed window opened by the first one,
-- shared by every server process. Rows whose window has passed are purged.
CREATE TABLE registration_rate (
  bucket            text PRIMARY KEY,
  registrations     integer NOT NULL CHECK (registrations >= 0),
  window_started_at timestamptz NOT NULL
);
CREATE INDEX registration_rate_window_idx ON registration_rate (window_started_at);
