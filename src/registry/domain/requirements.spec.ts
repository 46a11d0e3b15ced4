import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requirementsOf, requirementsProblem } from './requirements.js';

describe('model requirements (metadata.requirements)', () => {
  it('accepts none, and well-formed ones', () => {
    assert.equal(requirementsProblem({}), null);
    assert.equal(requirementsProblem({ map: 0.5 }), null);
    const metadata = {
      requirements: {
        labels: ['camera:ip67', 'site:berlin'],
        min_memory_mb: 1024,
        execution_providers: ['cpu', 'cuda'],
      },
    };
    assert.equal(requirementsProblem(metadata), null);
    assert.deepEqual(requirementsOf(metadata), metadata.requirements);
    assert.deepEqual(requirementsOf({}), {});
    assert.deepEqual(requirementsOf(null), {});
  });

  const refusals: [unknown, RegExp][] = [
    ['ip67', /^metadata\.requirements must be an object/],
    [[], /^metadata\.requirements must be an object/],
    [{ gpu: true }, /^metadata\.requirements\.gpu is not a known requirement/],
    [{ labels: 'camera:ip67' }, /^metadata\.requirements\.labels must be an array of strings$/],
    [{ labels: ['camera ip67'] }, /^metadata\.requirements\.labels: "camera ip67" is not valid/],
    [{ labels: [7] }, /^metadata\.requirements\.labels: 7 is not valid/],
    [{ labels: Array.from({ length: 65 }, (_, i) => `l${i}`) }, /has more than 64 items/],
    [{ min_memory_mb: '1 GiB' }, /^metadata\.requirements\.min_memory_mb must be an integer/],
    [{ min_memory_mb: 0 }, /^metadata\.requirements\.min_memory_mb must be an integer/],
    [{ min_memory_mb: 1.5 }, /^metadata\.requirements\.min_memory_mb must be an integer/],
    [{ execution_providers: [] }, /must name at least one provider/],
  ];
  for (const [requirements, pattern] of refusals) {
    it(`refuses ${JSON.stringify(requirements).slice(0, 60)}`, () => {
      assert.match(requirementsProblem({ requirements }) ?? '', pattern);
    });
  }
});
