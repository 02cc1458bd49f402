// The kit's canonical-resource-URI rule against the same table as the server's: a resource the kit
// refuses at start is one the server refuses to register, and both agree on the canonical form.
import { describe, expect, it } from 'vitest';
import { canonicalResource, createResourceServer, resourceUriProblem, tryCanonicalResource } from '@portcullis/resource-server';
import { canonicalVectors, refusedVectors } from '../resources/canonical-resource-uri.vectors.ts';

const options = (resource: string) => ({
  resource, issuer: 'https://as.example.com', scopesSupported: ['notes:read'],
});

describe('the kit canonical resource URI rule', () => {
  it.each(canonicalVectors)('%s is %s', (input, canonical) => {
    expect(resourceUriProblem(input)).toBeUndefined();
    expect(canonicalResource(input)).toBe(canonical);
    expect(tryCanonicalResource(input)).toBe(canonical);
    expect(createResourceServer(options(input)).resource).toBe(canonical);
  });

  it.each(refusedVectors)('%j is refused: %s', (input, problem) => {
    expect(resourceUriProblem(input)).toBe(problem);
    expect(tryCanonicalResource(input)).toBeUndefined();
    expect(() => canonicalResource(input)).toThrow(TypeError);
    expect(() => canonicalResource(input)).toThrow(problem);
    expect(() => createResourceServer(options(input))).toThrow(problem);
  });
});
