// The last check of a machine client's JWKS, after its shape (machine-schema.ts): every key must import
// (jose) as a public key fit for its algorithm, so a typo is found at registration, not at its first token.
import { importJWK, type JWK } from 'jose';
import { AppError } from '../errors.ts';
import type { MachineJwks } from './machine-schema.ts';

/** RFC 7518 §3.3 asks for 2048-bit RSA keys at least. */
const MIN_RSA_BITS = 2048;

// The algorithm a key without `alg` is tried with: its curve names it; RSA keys are checked as RS256.
const defaultAlg = (key: MachineJwks['keys'][number]) =>
  key.kty === 'RSA' ? 'RS256' : key.crv === 'Ed25519' ? 'EdDSA' : key.crv === 'P-384' ? 'ES384' : key.crv === 'P-521' ? 'ES512' : 'ES256';

export async function assertUsableSigningKeys(jwks: MachineJwks): Promise<void> {
  for (const [index, key] of jwks.keys.entries()) {
    const label = key.kid === undefined ? `key ${index + 1}` : `key ${JSON.stringify(key.kid)}`;
    let imported;
    try {
      imported = await importJWK(key as JWK, key.alg ?? defaultAlg(key));
    } catch (error) {
      throw new AppError('invalid_request', `JWKS ${label} is not a usable public key: ${(error as Error).message}`);
    }
    if (imported instanceof Uint8Array || imported.type !== 'public') {
      throw new AppError('invalid_request', `JWKS ${label} is not a public key`);
    }
    const bits = key.kty === 'RSA' ? (imported.algorithm as { modulusLength?: number }).modulusLength : undefined;
    if (bits !== undefined && bits < MIN_RSA_BITS) {
      throw new AppError('invalid_request', `JWKS ${label} is a ${bits}-bit RSA key; ${MIN_RSA_BITS} bits at least`);
    }
  }
}
