// The one statement that saves an oidc-provider model row (src/oidc/adapter.ts), also written inside the
// statements that save a row together with other writes (token-issue-write.ts, held-model-writes.ts): its
// seven values (model, id, payload, grant_id, uid, user_code, expires_at) are the parameters from `first` on.
export const modelUpsertSql = (first: number) => {
  const [model, id, payload, grantId, uid, userCode, expiresAt] = Array.from({ length: 7 }, (_, n) => `$${first + n}`);
  return `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
  VALUES (${model}, ${id}, ${payload}, ${grantId}, ${uid}, ${userCode}, ${expiresAt}) ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload,
  grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`;
};

/** modelUpsertSql with its values as $1..$7. */
export const MODEL_UPSERT_SQL = modelUpsertSql(1);
