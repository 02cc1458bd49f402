// The server's canonical-resource-URI rule against the shared table, and the doors that use it: the
// resource schema (CLI and admin) refuses with the rule's words; matching is lenient, the stored form strict.
import { describe, expect, it } from 'vitest';
import { canonicalResourceUri, InvalidResourceUriError, tryCanonicalResourceUri } from '../../src/resources/canonical-uri.ts';
import { newResourceSchema } from '../../src/resources/schema.ts';
import { canonicalVectors, refusedVectors } from './canonical-resource-uri.vectors.ts';

const resource = (uri: string) => ({ uri, name: 'Notes', scopes: [{ scope: 'notes:read', risk: 'read' as const }] });

describe('the server canonical resource URI rule', () => {
  it.each(canonicalVectors)('%s is %s', (input, canonical) => {
    expect(canonicalResourceUri(input)).toBe(canonical);
    expect(tryCanonicalResourceUri(input)).toBe(canonical);
    // Canonical means a fixed point: the stored form normalises to itself.
    expect(canonicalResourceUri(canonical)).toBe(canonical);
    expect(newResourceSchema.parse(resource(input)).uri).toBe(canonical);
  });

  it.each(refusedVectors)('%j is refused: %s', (input, problem) => {
    expect(() => canonicalResourceUri(input)).toThrow(new InvalidResourceUriError(problem));
    expect(tryCanonicalResourceUri(input)).toBeUndefined();
    const parsed = newResourceSchema.safeParse(resource(input));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message)).toEqual([problem]);
  });
});
