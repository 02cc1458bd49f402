// What counts as a scope gaining tools of a higher risk (issue 14 §3, src/tools/reconsent.ts): each scope's level
// is the highest risk among the approved tools behind it, never below its declared class.
import { describe, expect, it } from 'vitest';
import { toolDefinitionOf, toolScopesMeta } from '@portcullis/resource-server';
import { reconsentRisk, scopeLevels } from '../../src/tools/reconsent.ts';
import type { ResourceScope } from '../../src/resources/schema.ts';

const SCOPES: ResourceScope[] = [
  { scope: 'notes:read', risk: 'read', description: '' },
  { scope: 'notes:write', risk: 'write', description: '' },
  { scope: 'notes:delete', risk: 'irreversible', description: '' },
];
const tool = (scopes: string[] | undefined, annotations?: Record<string, unknown>) =>
  toolDefinitionOf({ name: 't', ...(annotations ? { annotations } : {}), ...(scopes ? { _meta: toolScopesMeta(scopes) } : {}) })!;
const levels = (...pins: ReturnType<typeof tool>[]) => Object.fromEntries(scopeLevels(pins, SCOPES));

describe('scope levels for re-consent', () => {
  it('with no tools, or tools matching their scopes, each scope stays at its declared class', () => {
    const declared = { 'notes:read': 'read', 'notes:write': 'write', 'notes:delete': 'irreversible' };
    expect(levels()).toEqual(declared);
    expect(levels(tool(['notes:read'], { readOnlyHint: true }), tool(['notes:write']), tool(['notes:delete'], { destructiveHint: true }))).toEqual(declared);
  });

  it('a tool needing notes:read and notes:delete raises notes:read to irreversible (it sits under both)', () => {
    expect(levels(tool(['notes:read', 'notes:delete']))['notes:read']).toBe('irreversible');
  });

  it('destructiveHint: true behind a read scope counts as write; on a write tool it changes nothing', () => {
    expect(reconsentRisk(tool(['notes:read'], { destructiveHint: true }), SCOPES)).toBe('write');
    expect(levels(tool(['notes:read'], { destructiveHint: true }))['notes:read']).toBe('write');
    expect(levels(tool(['notes:write'], { destructiveHint: true }))['notes:write']).toBe('write');
  });

  it('a tool without reported scopes, or needing an undeclared scope, raises no declared scope', () => {
    expect(reconsentRisk(tool(undefined), SCOPES)).toBeUndefined();
    expect(levels(tool(undefined), tool(['admin:all']))).toEqual({ 'notes:read': 'read', 'notes:write': 'write', 'notes:delete': 'irreversible' });
  });
});
