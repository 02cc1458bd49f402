-- 0002: indexes behind the grants portal (/account): a person's grants and sessions, and the audit
-- events of one grant (last used, last refresh, revocations). Forward-only: never edit once landed.

-- oidc-provider keeps the account of a Grant or Session only inside its JSON payload.
CREATE INDEX oidc_models_account_id ON oidc_models ((payload->>'accountId'))
  WHERE model IN ('Grant', 'Session');

-- token.issued, consent.granted and grant.revoked events name their grant in details.grant_id.
CREATE INDEX audit_events_grant_id ON audit_events ((details->>'grant_id'), event_type);
