// The server's door to the one canonical-resource-URI rule, which lives in the resource-server kit
// (packages/resource-server/src/resource-uri.ts) so an audience registered here is one the kit serves.

// The kit's package, as any of its users imports it: run from source (tsx, vitest), it resolves to the
// kit's TypeScript (tsconfig.json `paths`, the `portcullis-source` condition); the built server
// (`npm run build`, dist/) resolves it to the kit's own built JavaScript, through its package exports.
import { canonicalResource, resourceUriProblem } from '@portcullis/resource-server';

export class InvalidResourceUriError extends Error {
  override name = 'InvalidResourceUriError';
}

/**
 * The canonical form: absolute http(s) URI, lowercase scheme and host, default port dropped, no
 * trailing slash, no query, no fragment, no credentials. Throws InvalidResourceUriError otherwise.
 */
export function canonicalResourceUri(input: string): string {
  const problem = resourceUriProblem(input);
  if (problem) throw new InvalidResourceUriError(problem);
  return canonicalResource(input);
}

/** The canonical form, or undefined when the input is not a usable resource URI. */
export function tryCanonicalResourceUri(input: string): string | undefined {
  return resourceUriProblem(input) === undefined ? canonicalResource(input) : undefined;
}
