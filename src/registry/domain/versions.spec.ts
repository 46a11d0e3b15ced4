import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkVersion, compareVersions, parseVersion, versionSortKey } from './versions.js';

describe('versions people use', () => {
  for (const version of [
    '1.0.0',
    '2.0.0-rc.1',
    '1.2.3+build.5',
    '20261206',
    '2026.12.6',
    '2026.12.06',
    '2026.1.6.2',
    '2026.12.6-1',
  ]) {
    it(`accepts ${version}`, () => assert.equal(checkVersion(version), null));
  }
  it('requires one', () => assert.equal(checkVersion(''), 'version is required'));
  for (const version of [
    '2026',
    '2026120',
    '202612061',
    '20261306',
    '20260231',
    '19691231',
    '2026.13.1',
    '2026.2.30',
    '2026.12.6.01',
    '2026.12.6.x',
    '2026-12-06',
    '2026/12/06',
    '20261206/../x',
    '1.0.0.0',
    'v1.0.0',
    'latest',
  ]) {
    it(`refuses ${JSON.stringify(version)}`, () =>
      assert.match(checkVersion(version) ?? '', /nightly date/));
  }

  it('tells the kinds apart', () => {
    assert.equal(parseVersion('20261206')?.kind, 'date');
    assert.equal(parseVersion('2026.12.06')?.kind, 'calver');
    assert.equal(parseVersion('2026.12.6')?.kind, 'semver');
    assert.deepEqual(parseVersion('2026.12.6.3')?.numbers, [2026, 12, 6, 3]);
  });
});

describe('version order', () => {
  const ordered = [
    '0.9.0',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-beta',
    '1.0.0',
    '1.0.1',
    '10.0.0',
    '2026.1.31',
    '2026.02.01',
    '20261205',
    '2026.12.6-1',
    '2026.12.6',
    '20261206',
    '2026.12.6.1',
    '2026.12.6.2',
    '2026.12.6.10',
    '20270101',
  ];

  it('sorts releases, nightlies and calendar versions sensibly', () => {
    const shuffled = [...ordered].reverse();
    assert.deepEqual(shuffled.sort(compareVersions), ordered);
  });

  it('the SQL sort key orders as compareVersions does', () => {
    const arbitraryVersion = fc.oneof(
      fc.constantFrom(...ordered),
      fc
        .tuple(
          fc.nat(30),
          fc.nat(30),
          fc.nat(30),
          fc.option(fc.stringMatching(/^[a-z0-9]{1,4}(\.[a-z0-9]{1,3})?$/)),
        )
        .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}`),
      fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10).replaceAll('-', '')),
    );
    fc.assert(
      fc.property(arbitraryVersion, arbitraryVersion, (a, b) => {
        const byKey = Math.sign(
          versionSortKey(a) < versionSortKey(b)
            ? -1
            : versionSortKey(a) > versionSortKey(b)
              ? 1
              : 0,
        );
        assert.equal(byKey, Math.sign(compareVersions(a, b)), `${a} vs ${b}`);
      }),
    );
  });
});
