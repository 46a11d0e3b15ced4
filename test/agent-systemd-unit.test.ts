import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const UNIT = new URL('../../edge-agent/deploy/sentinel-agent.service', import.meta.url).pathname;
const text = readFileSync(UNIT, 'utf8');

/** [section, key, value] for every assignment, in order (systemd keys may repeat). */
function parseUnit(source: string): [string, string, string][] {
  const entries: [string, string, string][] = [];
  let section = '';
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `not an assignment: ${line}`);
    entries.push([section, line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return entries;
}

function values(key: string): string[] {
  return parseUnit(text)
    .filter(([section, k]) => section === 'Service' && k === key)
    .map(([, , v]) => v);
}

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const haveAnalyze = analyze.status === 0;

/** `systemd-analyze verify` exits 0 even for unknown keys and bad values: any output is a finding. */
function verify(path: string): string {
  const run = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  return `${run.stdout}${run.stderr}`.trim() + (run.status === 0 ? '' : `\nexit ${run.status}`);
}

describe('edge-agent/deploy/sentinel-agent.service', () => {
  it('confines the agent as the issue asks', () => {
    assert.deepEqual(values('NoNewPrivileges'), ['yes']);
    assert.deepEqual(values('ProtectSystem'), ['strict']);
    assert.ok(values('SystemCallFilter').includes('@system-service'));
    const dataDir = values('Environment')
      .map((e) => /^SENTINEL_DATA_DIR=(.+)$/.exec(e)?.[1])
      .find(Boolean);
    assert.equal(dataDir, '/var/lib/sentinel-agent');
    assert.deepEqual(values('ReadWritePaths'), [dataDir]);
    assert.deepEqual(values('StateDirectory'), ['sentinel-agent']);
    assert.match(values('ExecStart')[0] ?? '', /sentinel-agent\.js --config /);
  });

  it(
    'passes systemd-analyze verify with no finding',
    { skip: !haveAnalyze && 'systemd-analyze is not installed' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'unit-'));
      const copy = join(dir, 'sentinel-agent.service');
      writeFileSync(copy, text);
      assert.equal(verify(copy), '');
      // ...and the check bites: a bad value and an unknown key are findings.
      writeFileSync(copy, text.replace('NoNewPrivileges=yes', 'NoNewPrivileges=perhaps'));
      assert.match(verify(copy), /Failed to parse boolean value/);
      writeFileSync(copy, text.replace('ProtectSystem=strict', 'ProtectSytem=strict'));
      assert.match(verify(copy), /Unknown key 'ProtectSytem'/);
    },
  );

  it(
    'scores "OK" in systemd-analyze security',
    { skip: !haveAnalyze && 'systemd-analyze is not installed' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'unit-'));
      const copy = join(dir, 'sentinel-agent.service');
      writeFileSync(copy, text);
      const run = spawnSync(
        'systemd-analyze',
        // --threshold is in tenths of the printed 0-10 exposure.
        ['security', '--offline=yes', '--threshold=30', copy],
        {
          encoding: 'utf8',
        },
      );
      const overall = /Overall exposure level for sentinel-agent\.service: ([\d.]+)/.exec(
        run.stdout,
      );
      assert.ok(overall, run.stdout + run.stderr);
      assert.equal(run.status, 0, `exposure ${overall[1]} is over 3.0`);
    },
  );
});
