// Why an ID-JAG exchange was refused: `reason` goes to the audit trail, `message` to the client (as
// invalid_grant, RFC 7521 §5.2), `facts` names what was known of the assertion when it was refused.

export class IdJagRefusal extends Error {
  override name = 'IdJagRefusal';
  constructor(readonly reason: string, message: string, readonly facts: { issuer?: string; jti?: string } = {}) { super(message); }
}
