// The server's door to the one canonical-resource-URI rule, which lives in the resource-server kit
// (packages/resource-server/src/resource-uri.ts) so an audience registered here is one the kit serves.

// A relative import of the kit's source, not `@portcullis/resource-server`: the server runs from
// source through tsx, which does not apply the kit's `portcullis-source` export condition. The kit
// file imports nothing, so this pulls in the rule alone.
import { canonicalResource, resourceUriProblem } from '../../packages/resource-server/src/resource-uri.ts';

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
