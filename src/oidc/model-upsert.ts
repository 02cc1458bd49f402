// The one statement that saves an oidc-provider model row (src/oidc/adapter.ts), also written inside the
// statements that save a row together with another write (token-issue-write.ts): $1..$7 are its values.
export const MODEL_UPSERT_SQL = `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload,
  grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`;
