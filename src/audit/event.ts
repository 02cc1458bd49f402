// What one audit event says: its type from the one list of types, who acted, and what it touched. Shared
// by the store that appends it (store.ts) and the observers that log and count it (observers.ts).

export type AuditEventType =
  | 'login.succeeded' | 'login.failed' | 'login.throttled' | 'session.ended'
  | 'consent.granted' | 'consent.denied'
  | 'token.issued' | 'token.dpop_required' | 'refresh_token.replay_detected' | 'authorization_code.replay_detected'
  | 'grant.revoked' | 'grant.reconsent_required'
  | 'client.registered' | 'client.changed' | 'client.metadata_document_changed'
  | 'client.disabled' | 'client.enabled' | 'client.deleted'
  | 'resource.registered' | 'resource.changed' | 'resource.disabled' | 'resource.enabled' | 'resource.deleted'
  | 'tools.listed' | 'tools.list_failed' | 'tools.drift_detected' | 'tools.approved' | 'tools.drift_policy_changed'
  | 'tools.calls_recorded' | 'tools.calls_purged' | 'tools.budget_changed'
  | 'exchange.allowed' | 'exchange.denied' | 'exchange.withdrawn' | 'token.exchanged' | 'token.exchange_refused'
  | 'account.created' | 'account.disabled' | 'account.enabled' | 'account.password_reset'
  | 'keys.rotated' | 'keys.retired'
  | 'admin_token.created' | 'admin_token.revoked' | 'admin.action'
  | 'id_jag_issuer.added' | 'id_jag_issuer.updated' | 'id_jag_issuer.removed'
  | 'id_jag.exchanged' | 'id_jag.refused' | 'id_jag_subject.linked'
  | 'id_jag_resource.irreversible_allowed' | 'id_jag_resource.irreversible_denied'
  | 'identity_provider.added' | 'identity_provider.updated' | 'identity_provider.removed'
  | 'policy.added' | 'policy.removed' | 'policy.scope_withheld' | 'policy.resource_refused' | 'policy.grant_narrowed'
  | 'federation.linked' | 'federation.unlinked' | 'federation.refused' | 'federation.provider_error'
  | 'audit.purged';

/** Who acted: a person (their account), an operator (CLI or admin), a client with its own credentials, or the server itself. */
export interface AuditActor {
  type: 'user' | 'operator' | 'client' | 'system';
  id?: string | undefined;
}

export interface AuditEvent {
  type: AuditEventType;
  outcome?: 'success' | 'failure';
  /** Defaults from the event (see actorOf in observers.ts): pass it when an operator or admin acts. */
  actor?: AuditActor | undefined;
  accountId?: string | undefined;
  clientId?: string | undefined;
  resource?: string | undefined;
  scopes?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
  details?: Record<string, unknown>;
}
