import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bucketCount,
  defaultStep,
  parseStep,
  parseTelemetryRange,
  parseTime,
  seriesOf,
  type BucketRow,
  type TelemetryRange,
} from './telemetry-query.js';

const NOW = new Date('2026-12-07T11:00:00.000Z');

function range(input: Parameters<typeof parseTelemetryRange>[0]): TelemetryRange {
  const parsed = parseTelemetryRange(input, NOW);
  if (!parsed.ok) assert.fail(parsed.message);
  return parsed.value;
}

function refusal(input: Parameters<typeof parseTelemetryRange>[0]): string {
  const parsed = parseTelemetryRange(input, NOW);
  assert.equal(parsed.ok, false, `expected a refusal of ${JSON.stringify(input)}`);
  return (parsed as { message: string }).message;
}

describe('parseTime', () => {
  it('reads ISO 8601 times with a zone, and dates as midnight UTC', () => {
    assert.equal(parseTime('2026-12-07T10:00:00Z')?.toISOString(), '2026-12-07T10:00:00.000Z');
    assert.equal(parseTime('2026-12-07T10:00Z')?.toISOString(), '2026-12-07T10:00:00.000Z');
    assert.equal(parseTime('2026-12-07T11:30:00+01:30')?.toISOString(), '2026-12-07T10:00:00.000Z');
    assert.equal(parseTime('2026-12-07T09:00:00-0100')?.toISOString(), '2026-12-07T10:00:00.000Z');
    assert.equal(
      parseTime('2026-12-07T10:00:00.123456789Z')?.toISOString(),
      '2026-12-07T10:00:00.123Z',
    );
    assert.equal(parseTime('2026-12-07')?.toISOString(), '2026-12-07T00:00:00.000Z');
  });

  it('refuses times without a zone, other formats and days that do not exist', () => {
    for (const text of [
      '2026-12-07T10:00:00', // no zone: the hub's local time
      '1765101600000',
      'yesterday',
      '2026-12-07 10:00:00Z',
      '2026-02-30',
      '2026-02-30T10:00:00Z',
      '2026-13-01T10:00:00Z',
      '2026-12-07T25:00:00Z',
      '',
    ]) {
      assert.equal(parseTime(text), null, text);
    }
  });
});

describe('parseStep', () => {
  it('reads seconds, and numbers with s, m, h, d', () => {
    assert.equal(parseStep('30'), 30);
    assert.equal(parseStep('30s'), 30);
    assert.equal(parseStep('5m'), 300);
    assert.equal(parseStep('1h'), 3600);
    assert.equal(parseStep('1d'), 86_400);
  });

  it('refuses zero, fractions, signs, other units and spaces', () => {
    for (const text of ['0', '0s', '1.5', '-30', '+30', '30ms', '1w', ' 30', '30 s', '', 'm']) {
      assert.equal(parseStep(text), null, text);
    }
  });
});

describe('bucketCount and defaultStep', () => {
  it('counts a range as its length over the step, rounded up, wherever it starts', () => {
    const from = new Date('2026-12-07T10:00:00Z');
    assert.equal(bucketCount(from, new Date('2026-12-07T11:00:00Z'), 10), 360);
    assert.equal(bucketCount(from, new Date('2026-12-07T11:00:00.001Z'), 10), 361);
    assert.equal(bucketCount(from, new Date('2026-12-07T10:00:01Z'), 3600), 1);
    // The last hour from an odd second: still 360 buckets of 10 s, so the default stays 10 s.
    const odd = new Date('2026-12-07T10:00:17.5Z');
    assert.equal(bucketCount(odd, new Date(odd.getTime() + 3_600_000), 10), 360);
  });

  it('takes the smallest step giving at most 360 buckets', () => {
    const to = new Date('2026-12-07T11:00:00Z');
    const before = (ms: number) => new Date(to.getTime() - ms);
    assert.equal(defaultStep(before(3_600_000), to), 10);
    assert.equal(defaultStep(before(3_600_000 + 1000), to), 30);
    assert.equal(defaultStep(before(6 * 3_600_000), to), 60);
    assert.equal(defaultStep(before(86_400_000), to), 300);
    assert.equal(defaultStep(before(3 * 86_400_000), to), 900);
    assert.equal(defaultStep(before(7 * 86_400_000), to), 3600);
    assert.equal(defaultStep(before(31 * 86_400_000), to), 21_600);
  });
});

describe('parseTelemetryRange', () => {
  it('defaults to the last hour, 10 s buckets, by model version', () => {
    const atOddTime = parseTelemetryRange({}, new Date('2026-12-07T11:00:17.5Z'));
    assert.ok(atOddTime.ok && atOddTime.value.stepS === 10);
    assert.deepEqual(range({}), {
      from: new Date('2026-12-07T10:00:00Z'),
      to: NOW,
      stepS: 10,
      by: 'model_version',
    });
  });

  it('takes from alone (to is now) and to alone (from is an hour before it)', () => {
    assert.deepEqual(range({ from: '2026-12-06T11:00:00Z' }), {
      from: new Date('2026-12-06T11:00:00Z'),
      to: NOW,
      stepS: 300,
      by: 'model_version',
    });
    const earlier = range({ to: '2026-12-01T00:00:00Z', by: 'device', step: '1m' });
    assert.deepEqual(earlier, {
      from: new Date('2026-11-30T23:00:00Z'),
      to: new Date('2026-12-01T00:00:00Z'),
      stepS: 60,
      by: 'device',
    });
  });

  it('refuses an empty or reversed range, and one over 31 days, naming the parameters', () => {
    assert.match(refusal({ from: '2026-12-07T11:00:00Z' }), /^from .* must be before to/);
    assert.match(refusal({ from: '2026-12-07T12:00:00Z' }), /^from .* must be before to/);
    assert.match(refusal({ from: '2026-11-05T10:00:00Z' }), /at most 31 days/);
    assert.deepEqual(range({ from: '2026-11-06T11:00:00Z' }).stepS, 21_600); // exactly 31 days
  });

  it('refuses bad times, steps and groupings with a message naming the parameter', () => {
    assert.match(refusal({ from: 'yesterday' }), /^from must be an ISO 8601 time/);
    assert.match(
      refusal({ to: '2026-12-07T10:00:00' }),
      /^to must be an ISO 8601 time with a zone/,
    );
    assert.match(refusal({ step: '0' }), /^step must be a whole number of seconds/);
    assert.match(refusal({ step: '1.5s' }), /^step must be/);
    assert.match(refusal({ by: 'group' }), /^by must be one of model_version, device/);
  });

  it('refuses a step giving more than 2000 buckets, and takes one giving exactly 2000', () => {
    // An hour in 1 s buckets: 3600.
    assert.match(
      refusal({ step: '1' }),
      /^step 1 s gives 3600 buckets over this range; at most 2000/,
    );
    const from = '2026-12-07T10:00:00Z';
    assert.equal(range({ from, to: '2026-12-07T10:33:20Z', step: '1s' }).stepS, 1); // 2000 buckets
    assert.match(refusal({ from, to: '2026-12-07T10:33:21Z', step: '1s' }), /2001 buckets/);
  });
});

describe('seriesOf', () => {
  const row = (
    model_version: string,
    device: string | null,
    time: string,
    fields: Partial<BucketRow> = {},
  ): BucketRow => ({
    model_version,
    device,
    time: Date.parse(time),
    windows: 1,
    frames: 100,
    fps: 10,
    latency_p50: 5,
    latency_p95: 9,
    memory_mb: 100,
    errors: 0,
    map: null,
    ...fields,
  });

  it('folds rows into series sorted by model version then device, points by time', () => {
    const series = seriesOf([
      row('b-version', 'cam-2', '2026-12-07T10:00:30Z'),
      row('a-version', 'cam-9', '2026-12-07T10:00:30Z', { map: 0.5 }),
      row('b-version', 'cam-2', '2026-12-07T10:00:00Z', { windows: 3 }),
      row('b-version', 'Cam-1', '2026-12-07T10:00:00Z'),
      row('a-version', 'cam-9', '2026-12-07T10:00:00Z'),
    ]);
    assert.deepEqual(
      series.map((s) => [
        s.model_version,
        s.device,
        s.points.map((p) => [p.time.toISOString().slice(11, 19), p.windows, p.map]),
      ]),
      [
        [
          'a-version',
          'cam-9',
          [
            ['10:00:00', 1, null],
            ['10:00:30', 1, 0.5],
          ],
        ],
        // Code unit order: upper case before lower case, whatever the locale.
        ['b-version', 'Cam-1', [['10:00:00', 1, null]]],
        [
          'b-version',
          'cam-2',
          [
            ['10:00:00', 3, null],
            ['10:00:30', 1, null],
          ],
        ],
      ],
    );
  });

  it('keeps device null when grouped by model version, and leaves out empty buckets', () => {
    const series = seriesOf([
      row('v1', null, '2026-12-07T10:00:00Z'),
      row('v1', null, '2026-12-07T10:00:10Z', { windows: 0 }),
    ]);
    assert.deepEqual(
      series.map((s) => ({ device: s.device, points: s.points.length })),
      [{ device: null, points: 1 }],
    );
    assert.deepEqual(seriesOf([]), []);
  });
});
