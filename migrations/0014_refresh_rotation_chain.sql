-- 0014: a refresh token's place in its rotation chain, so at most one successor of a token stays usable
-- (src/oidc/refresh-rotation-policy.ts). Forward-only: never edit this file once landed.

-- rotated_from: the token this one was issued for (NULL for the first of a chain, from a code).
-- successor_id: the one successor of this token that may be used; an honest retry inside the grace
--   window replaces it, which supersedes the earlier successor (it then reads as a replayed token).
-- successor_used_at: when that successor was itself rotated: from then on a retry of this token is a
--   replay. Both are written under this row's lock, so racing requests on any server agree.
ALTER TABLE oidc_models
  ADD COLUMN rotated_from      text,
  ADD COLUMN successor_id      text,
  ADD COLUMN successor_used_at timestamptz;
