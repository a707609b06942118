/** "Did you mean": edit distance, the closest allowed field, and the fields a schema allows where. */
import { describe, expect, it } from 'vitest';
import { closestField, editDistance, fieldsAt } from '../../shared/scenario/field-suggestions.js';
import { SCENARIO_SPEC } from '../../shared/scenario/schema.js';

describe('field suggestions', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('modle', 'model')).toBe(1);
    expect(editDistance('rouds', 'rounds')).toBe(1);
    expect(editDistance('seed', 'seed')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests the closest field only when it is close enough to be a slip', () => {
    const fields = ['name', 'seed', 'model', 'rounds', 'clientsPerRound', 'clientFraction'];
    expect(closestField('modle', fields)).toBe('model');
    expect(closestField('Rounds', fields)).toBe('rounds');
    expect(closestField('clientsPerround', fields)).toBe('clientsPerRound');
    expect(closestField('clientFractoin', fields)).toBe('clientFraction');
    expect(closestField('colour', fields)).toBeNull();
    expect(closestField('x', [])).toBeNull();
  });

  it("reads the allowed fields at a path, taking a discriminated union's variant from the file", () => {
    expect(fieldsAt(SCENARIO_SPEC, [], {})).toContain('clientsPerRound');
    expect(fieldsAt(SCENARIO_SPEC, ['model'], { model: { name: 'mlp' } })).toEqual(['name', 'preset', 'hidden', 'activation', 'output']);
    expect(fieldsAt(SCENARIO_SPEC, ['partition'], { partition: { kind: 'dirichlet' } })).toEqual(['kind', 'clients', 'alpha', 'minSamples']);
    expect(fieldsAt(SCENARIO_SPEC, ['compression', 'update', 0], { compression: { update: [{ codec: 'topk' }] } })).toEqual([
      'codec',
      'ratio',
      'errorFeedback',
    ]);
    expect(fieldsAt(SCENARIO_SPEC, ['system', 'devices'], {})).toEqual(['population', 'carbonIntensity']);
    // An unknown variant has no fields to offer; neither has a path the schema does not have.
    expect(fieldsAt(SCENARIO_SPEC, ['model'], { model: { name: 'resnet' } })).toEqual([]);
    expect(fieldsAt(SCENARIO_SPEC, ['nowhere'], {})).toEqual([]);
  });
});
