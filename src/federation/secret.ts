// A provider's client secret at rest: sealed like the signing keys (src/sealing/sealed-text.ts), under a
// purpose label of its own so the two sealing keys never mix.
import { openSealedText, sealText } from '../sealing/sealed-text.ts';

export const sealClientSecret = (clientSecret: string, serverSecret: string): Promise<string> =>
  sealText(clientSecret, serverSecret, 'identity-provider-client-secret');

/** The secret back, for the sign-in flow's token request; throws when KEY_ENCRYPTION_SECRET changed. */
export const openClientSecret = (jwe: string, serverSecret: string): Promise<string> =>
  openSealedText(jwe, serverSecret, 'identity-provider-client-secret');
