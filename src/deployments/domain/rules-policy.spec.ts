import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_RULES, describeRules, rulesPolicy, rulesTableMarkdown } from './rules-policy.js';

const README = new URL('../../../../README.md', import.meta.url);

describe('rules policy', () => {
  it('describes every rule once, with its default', () => {
    const described = describeRules();
    assert.deepEqual(
      described.map((r) => r.key),
      Object.keys(DEFAULT_RULES),
    );
    for (const rule of described) {
      assert.equal(rule.default, DEFAULT_RULES[rule.key]);
      assert.ok(rule.description.endsWith('.'), rule.key);
    }
  });

  it('is documented in the README exactly as defined', () => {
    const text = readFileSync(README, 'utf8');
    const table = /<!-- rules-table[^>]*-->\s*\n([\s\S]*?)\n\s*<!-- \/rules-table -->/
      .exec(text)?.[1]
      ?.trim();
    assert.ok(table, 'the README has the rules table between its markers');
    const normalise = (t: string) =>
      t
        .split('\n')
        .map((line) => line.replace(/\s*\|\s*/g, '|').replace(/-{3,}/g, '---'))
        .join('\n');
    assert.equal(normalise(table), normalise(rulesTableMarkdown()));
  });

  it('refuses an alpha that is no significance level', () => {
    assert.throws(() => rulesPolicy({ alpha: 0 }), /above 0 and below 0.5/);
    assert.equal(rulesPolicy({ alpha: 0.05 }).alpha, 0.05);
  });
});
