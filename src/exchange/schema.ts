// The names RFC 8693 gives the token exchange on the wire: the grant type, the one token type we accept
// and issue, and the size limits of what a caller sends.
import { z } from 'zod';

export { TOKEN_EXCHANGE_GRANT } from '../clients/token-exchange-grant.ts';
/** RFC 8693 §3: an OAuth 2.0 access token, the only subject and issued token type here. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** A portal form withdrawing one downstream service from one grant (unknown fields are ignored). */
export const withdrawalInput = z.object({
  grant_id: z.string().min(1).max(200),
  from: z.string().min(1).max(2048),
  to: z.string().min(1).max(2048),
});
