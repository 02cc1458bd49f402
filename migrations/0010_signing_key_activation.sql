-- 0010: a rotated key is published before it signs. Resource servers refetch our JWKS on an unknown kid
-- at most once per cooldown (30 s in the kit and jose): a key they already hold when its first token
-- arrives is never refused. `activates_at` is when a key starts signing; until then it is only published.
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz;
-- Every existing key signed from the moment it was created.
UPDATE signing_keys SET activates_at = created_at;
ALTER TABLE signing_keys ALTER COLUMN activates_at SET NOT NULL;
-- The servers' key check reads the published keys in activation order now (the newest active one of an
-- algorithm signs), not in creation order.
DROP INDEX signing_keys_published;
CREATE INDEX signing_keys_published ON signing_keys (activates_at DESC, created_at DESC, kid) WHERE retired_at IS NULL;
