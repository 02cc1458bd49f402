-- 0003: failed sign-ins counted per bucket ('email:<sha256 of the normalised email>' or 'ip:<address
-- or IPv6 /64>'), one row each, shared by every server process. A window opens at the first failure.
CREATE TABLE login_throttle (
  bucket            text PRIMARY KEY,
  failures          integer NOT NULL CHECK (failures >= 0),
  window_started_at timestamptz NOT NULL
);
-- The purge deletes rows whose window has passed.
CREATE INDEX login_throttle_window_idx ON login_throttle (window_started_at);
