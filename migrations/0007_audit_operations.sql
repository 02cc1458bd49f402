-- 0007: operations. Who acted in each audit event (a person, an operator, a client, the system);
-- the audit trail made append-only in the database itself; shared rate-limit counters.
-- Forward-only: never edit this file once landed.

-- The actor: 'user' (account_id is theirs), 'operator' (the CLI or an admin; actor_id names them),
-- 'client' (an OAuth client acting with its own credentials) or 'system' (timers, replay detection).
ALTER TABLE audit_events
  ADD COLUMN actor_type text CHECK (actor_type IN ('user', 'operator', 'client', 'system')),
  ADD COLUMN actor_id   text;

-- Rows written before this migration: the actor the writers of the time put in details.actor.
-- (The trigger below does not exist yet, so this one-time UPDATE is allowed.)
UPDATE audit_events SET
  actor_type = CASE WHEN details->>'actor' = 'cli' THEN 'operator'
                    WHEN details->>'actor' = 'client' THEN 'client'
                    WHEN account_id IS NOT NULL THEN 'user' ELSE 'system' END,
  actor_id   = CASE WHEN details->>'actor' = 'cli' THEN 'cli'
                    WHEN details->>'actor' = 'client' THEN client_id
                    ELSE account_id END;

-- Evidence must not be editable: UPDATE is always refused, DELETE only by the retention purge, which
-- sets `portcullis.audit_purge` for its own transaction (SET LOCAL; src/audit/retention.ts). A role with
-- DDL rights can still drop the trigger: this guards against mistakes and against SQL injection through
-- the application's own statements, not against the database owner.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('portcullis.audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE FUNCTION audit_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate();

-- Fixed-window rate-limit counters shared by every server process (token endpoint, metadata-document
-- fetches) when REDIS_URL is unset. Windows are aligned to the epoch, so processes agree on them
-- without talking; window_start and expires_at are epoch seconds. Expired rows are purged.
CREATE TABLE rate_limit_counters (
  bucket       text PRIMARY KEY,
  window_start bigint NOT NULL,
  hits         integer NOT NULL CHECK (hits >= 0),
  expires_at   bigint NOT NULL
);
CREATE INDEX rate_limit_counters_expires_idx ON rate_limit_counters (expires_at);
