// The audit event of an operator action (src/audit/operator.ts): the operator is the named actor, the request's
// facts go in their columns, and details name the operator; the CLI's events carry no `via`.
import { describe, expect, it } from 'vitest';
import { CLI_OPERATOR, operatorAuditEvent } from '../../src/audit/operator.ts';

describe('operatorAuditEvent', () => {
  it('names an admin\'s console session as the actor, with the request it came in', () => {
    const by = { actor: 'acc-1', accountId: 'acc-1', via: 'console' as const, ip: '192.0.2.1', userAgent: 'UA', requestId: 'r-1' };
    expect(operatorAuditEvent(by, { type: 'account.disabled', accountId: 'acc-2', details: { sessions_ended: 1 } })).toEqual({
      type: 'account.disabled', accountId: 'acc-2', actor: { type: 'operator', id: 'acc-1' },
      ip: '192.0.2.1', userAgent: 'UA', requestId: 'r-1',
      details: { sessions_ended: 1, actor: 'acc-1', via: 'console' },
    });
  });

  it('names the CLI with no request and no `via`', () => {
    const event = operatorAuditEvent(CLI_OPERATOR, { type: 'account.created', accountId: 'acc-3', details: {} });
    expect(event.actor).toEqual({ type: 'operator', id: 'cli' });
    expect(event.details).toEqual({ actor: 'cli' });
    expect([event.ip, event.userAgent, event.requestId]).toEqual([undefined, undefined, undefined]);
  });

  it('lets no event detail pose as the actor', () => {
    const event = operatorAuditEvent({ actor: 'admin_token:t1', via: 'api' }, { type: 'keys.rotated', details: { actor: 'cli', via: 'console' } });
    expect(event.details).toEqual({ actor: 'admin_token:t1', via: 'api' });
    expect(event.actor).toEqual({ type: 'operator', id: 'admin_token:t1' });
  });
});
