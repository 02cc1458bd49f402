// Client secrets for confidential self-registration (allowed with the initial access token): stored as
// a digest like every client secret here (src/clients/secret.ts), shown in plain text once, in the 201 response.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { digestClientSecret, generateClientSecret } from '../clients/secret.ts';
import { requestState } from '../request/state.ts';

/**
 * `features.registration.secretFactory`: what oidc-provider stores (and echoes) as client_secret is
 * the digest; the provider's compareClientSecret override checks presented secrets against it.
 */
export async function registrationSecretFactory(ctx: KoaContextWithOIDC): Promise<string> {
  const secret = generateClientSecret();
  // The plain secret waits on the request between oidc-provider asking for one and the response leaving.
  requestState(ctx).registrationSecret = secret;
  return digestClientSecret(secret);
}

/** Puts the plain secret into the registration response in place of its digest (RFC 7591 §3.2.1). */
export function revealRegisteredSecrets(provider: Provider): void {
  // Emitted synchronously once oidc-provider has set the 201 body, before koa sends it.
  provider.on('registration_create.success', (ctx: KoaContextWithOIDC) => {
    const state = requestState(ctx);
    const secret = state.registrationSecret;
    state.registrationSecret = undefined;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (secret !== undefined && body) body.client_secret = secret;
  });
}
