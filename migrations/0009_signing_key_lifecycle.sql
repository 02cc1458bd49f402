-- 0009: retiring a signing key erases its private half. A retired key is no longer published, so
-- nothing could verify what it signed: keeping the private key would only leave something to steal.
-- The public JWK and the dates stay, for the key list and the audit trail.
ALTER TABLE signing_keys ALTER COLUMN private_jwk_jwe DROP NOT NULL;
UPDATE signing_keys SET private_jwk_jwe = NULL WHERE retired_at IS NOT NULL;
ALTER TABLE signing_keys
  ADD CONSTRAINT signing_keys_private_half_until_retired
  CHECK ((retired_at IS NULL) = (private_jwk_jwe IS NOT NULL));
-- The servers' key check (every KEY_REFRESH_SECONDS) and the key list read the published keys by age.
CREATE INDEX signing_keys_published ON signing_keys (created_at DESC, kid) WHERE retired_at IS NULL;
