-- 0004: each resource's access-token format. 'jwt' (RFC 9068, verified by the resource server alone)
-- or 'opaque' (a reference the resource server checks at our introspection endpoint, RFC 7662).
-- oidc-provider refuses to introspect JWT access tokens, so introspection mode needs 'opaque'.
ALTER TABLE resources
  ADD COLUMN access_token_format text NOT NULL DEFAULT 'jwt'
  CHECK (access_token_format IN ('jwt', 'opaque'));
