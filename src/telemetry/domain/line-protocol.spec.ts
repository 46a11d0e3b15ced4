import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FieldType } from 'influx';
import { TELEMETRY_SCHEMA } from '../influx-telemetry-store.js';
import type { ShadowPoint, TelemetryPoint, TelemetryTags } from '../telemetry-store.js';
import {
  TELEMETRY_TAG_KEYS,
  TelemetryLineEncoder,
  encodeDeploymentEvents,
  escapeMeasurement,
  escapeTag,
  quoteString,
} from './line-protocol.js';

const T = Date.parse('2026-11-29T10:00:00.123Z');

function point(tags: Partial<TelemetryTags> = {}, fields: Partial<TelemetryPoint> = {}) {
  return {
    time: new Date(T),
    tags: {
      device: 'cam-1',
      group: 'yard',
      environment: 'production',
      deployment: 'dep-1',
      model_id: 'm-1',
      model_version: '1.4.0',
      slot: 'blue',
      ...tags,
    },
    frames: 300,
    fps: 29.5,
    latency_p50: 8,
    latency_p95: 12.5,
    latency_max: 30,
    memory_mb: 210.25,
    errors: 2,
    window_s: 10,
    ...fields,
  } satisfies TelemetryPoint;
}

const SHADOW = {
  deployment: 'dep-1',
  model_id: 'm-2',
  model_version: '1.5.0',
  comparison: 'top1',
  samples: 40,
  dropped: 2,
  errors: 1,
  latency_p50: 9,
  latency_p95: 14.5,
  active_latency_p50: 8,
  active_latency_p95: 12,
  agreement: 0.975,
} satisfies ShadowPoint;

const encode = (...points: TelemetryPoint[]) =>
  new TelemetryLineEncoder().encode(points).toString('utf8');

const text = (encoder: TelemetryLineEncoder, points: TelemetryPoint[]) =>
  encoder.encode(points).toString('utf8');

/** Splits a field set at the commas outside string values (a quoted value may hold commas). */
function splitFields(fields: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < fields.length; i++) {
    const ch = fields[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(fields.slice(start, i));
      start = i + 1;
    }
  }
  out.push(fields.slice(start));
  return out;
}

/**
 * Splits a line without escapes in its tags and no space in its field values into its parts
 * (enough for the lines these tests compare); string field values may hold commas.
 */
function parts(line: string) {
  const [key, fields, time] = line.split(' ');
  const [measurement, ...tags] = key!.split(',');
  return {
    measurement,
    tags: tags.map((t) => t.split('=')),
    fields: Object.fromEntries(
      splitFields(fields!).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]),
    ) as Record<string, string>,
    time,
  };
}

describe('TelemetryLineEncoder', () => {
  it('writes one line per point: sorted tags, typed fields, a timestamp in ms', () => {
    assert.equal(
      encode(point()),
      'telemetry,deployment=dep-1,device=cam-1,environment=production,group=yard,model_id=m-1,' +
        'model_version=1.4.0,slot=blue ' +
        'device_id="cam-1",frames=300i,fps=29.5,latency_p50=8,latency_p95=12.5,latency_max=30,' +
        `memory_mb=210.25,errors=2i,window_s=10 ${T}\n`,
    );
  });

  it("writes exactly TELEMETRY_SCHEMA's tags and field types", () => {
    const line = parts(
      encode(
        point(
          {},
          {
            map: 0.5,
            latency_hist: [
              [52, 3],
              [53, 41],
            ],
            shadow: SHADOW,
          },
        ),
      ).trimEnd(),
    );
    assert.equal(line.measurement, TELEMETRY_SCHEMA.measurement);
    assert.deepEqual(
      line.tags.map(([key]) => key),
      [...TELEMETRY_SCHEMA.tags].sort(),
    );
    assert.deepEqual(Object.keys(line.fields).sort(), Object.keys(TELEMETRY_SCHEMA.fields).sort());
    for (const [field, type] of Object.entries(TELEMETRY_SCHEMA.fields)) {
      const value = line.fields[field]!;
      if (type === FieldType.INTEGER) assert.match(value, /^-?\d+i$/, field);
      else if (type === FieldType.STRING) assert.match(value, /^".*"$/, field);
      else if (type === FieldType.FLOAT) assert.match(value, /^-?[\d.]+(e[-+]\d+)?$/, field);
      else assert.fail(`${field}: a type the encoder does not write`);
    }
  });

  it('sorts the tag keys as Go bytes.Compare does', () => {
    const bytewise = [...TELEMETRY_TAG_KEYS].sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    );
    assert.deepEqual(TELEMETRY_TAG_KEYS, bytewise);
    assert.equal(TELEMETRY_TAG_KEYS[0], 'deployment'); // 'dep' < 'dev'
  });

  it('writes map only when the point has one', () => {
    assert.equal(parts(encode(point()).trimEnd()).fields.map, undefined);
    assert.equal(parts(encode(point({}, { map: 0.61 })).trimEnd()).fields.map, '0.61');
  });

  it('writes the latency histogram as a string field of compact JSON, only when the point has one', () => {
    assert.equal(parts(encode(point()).trimEnd()).fields.latency_hist, undefined);
    const hist: [number, number][] = [
      [0, 1],
      [52, 3],
      [53, 41],
      [148, 1_000_000_000],
    ];
    const line = encode(point({}, { map: 0.61, latency_hist: hist }));
    assert.ok(
      line.endsWith(`,map=0.61,latency_hist="[[0,1],[52,3],[53,41],[148,1000000000]]" ${T}\n`),
      line,
    );
    const field = parts(line.trimEnd()).fields.latency_hist!;
    assert.deepEqual(JSON.parse(field.slice(1, -1)), hist);
    // An empty histogram (a window without inferences) is a histogram too.
    assert.equal(
      parts(encode(point({}, { latency_hist: [] })).trimEnd()).fields.latency_hist,
      '"[]"',
    );
  });

  it('writes the shadow block as shadow_* fields of the same point, only when it has one', () => {
    const plain = parts(encode(point()).trimEnd()).fields;
    assert.deepEqual(
      Object.keys(plain).filter((k) => k.startsWith('shadow_')),
      [],
    );
    const line = encode(point({}, { shadow: SHADOW }));
    assert.ok(
      line.endsWith(
        ',window_s=10,shadow_model_id="m-2",shadow_model_version="1.5.0",shadow_comparison="top1",' +
          'shadow_samples=40i,shadow_dropped=2i,shadow_errors=1i,shadow_latency_p50=9,' +
          'shadow_latency_p95=14.5,shadow_active_latency_p50=8,shadow_active_latency_p95=12,' +
          `shadow_agreement=0.975 ${T}\n`,
      ),
      line,
    );
    // A window where the candidate ran nothing: counts only.
    const empty = {
      deployment: 'dep-1',
      model_id: 'm-2',
      model_version: '1.5.0',
      comparison: 'boxes',
      samples: 0,
      dropped: 7,
      errors: 0,
    } satisfies ShadowPoint;
    const fields = parts(encode(point({}, { shadow: empty })).trimEnd()).fields;
    assert.deepEqual(
      Object.keys(fields).filter((k) => k.startsWith('shadow_')),
      [
        'shadow_model_id',
        'shadow_model_version',
        'shadow_comparison',
        'shadow_samples',
        'shadow_dropped',
        'shadow_errors',
      ],
    );
    assert.equal(fields.shadow_dropped, '7i');
  });

  it('separates points with newlines, and writes nothing for no points', () => {
    const body = encode(point({ device: 'a' }), point({ device: 'b' }));
    assert.equal(body.split('\n').length, 3); // two lines and the empty tail
    assert.ok(body.endsWith('\n'));
    assert.equal(encode(), '');
  });

  it('leaves out non-finite floats (line protocol has no NaN or Infinity) but keeps the point', () => {
    const fields = parts(
      encode(point({}, { fps: NaN, latency_max: Infinity, map: -Infinity })).trimEnd(),
    ).fields;
    assert.equal(fields.fps, undefined);
    assert.equal(fields.latency_max, undefined);
    assert.equal(fields.map, undefined);
    assert.equal(fields.latency_p95, '12.5');
    assert.equal(fields.device_id, '"cam-1"');
  });

  it('floors fractional integers and leaves out integers beyond 2^53', () => {
    const fields = parts(encode(point({}, { frames: 12.9, errors: 2 ** 60 })).trimEnd()).fields;
    assert.equal(fields.frames, '12i');
    assert.equal(fields.errors, undefined);
  });

  it('writes very large and very small floats in exponent notation, which InfluxDB reads', () => {
    const fields = parts(encode(point({}, { fps: 1e21, memory_mb: 1e-7 })).trimEnd()).fields;
    assert.equal(fields.fps, '1e+21');
    assert.equal(fields.memory_mb, '1e-7');
  });

  it('writes UTF-8, growing its buffer beyond the first guess for long values', () => {
    const long = 'ü🚀'.repeat(400); // 2 + 4 bytes each: 2400 bytes, far over the ~320 set aside
    const body = new TelemetryLineEncoder().encode([
      point({ model_version: long }),
      point({ device: 'cam-2', model_version: long }),
    ]);
    const lines = body.toString('utf8').split('\n');
    assert.equal(lines.length, 3);
    assert.ok(lines[0]!.includes(`,model_version=${long},`));
    assert.ok(lines[1]!.startsWith('telemetry,deployment=dep-1,device=cam-2,'));
    assert.equal(body.length, Buffer.byteLength(lines.join('\n')));
  });

  it('skips a point whose time is not a date', () => {
    assert.equal(encode(point({}, { time: new Date(NaN) })), '');
  });

  it('escapes tag values: comma, equals sign and space; the device_id field: quote and backslash', () => {
    const line = encode(point({ device: 'cam "1"\\x', model_version: '1.0 beta,rc=2' }));
    assert.ok(line.includes(',device=cam\\ "1"\\x,'), line);
    assert.ok(line.includes(',model_version=1.0\\ beta\\,rc\\=2,'), line);
    assert.ok(line.includes(' device_id="cam \\"1\\"\\\\x",'), line);
  });
});

describe('TelemetryLineEncoder tag set cache', () => {
  it('reuses the encoded tags of a device while they stay the same', () => {
    const encoder = new TelemetryLineEncoder();
    const first = text(encoder, [point()]);
    // The same tags again (new string objects, as every parsed message brings).
    const again = text(encoder, [point({ group: ['ya', 'rd'].join('') })]);
    assert.equal(again, first);
    assert.equal(encoder.cachedDevices, 1);
  });

  it('rebuilds them when a tag changes (a device moved, a new version)', () => {
    const encoder = new TelemetryLineEncoder();
    text(encoder, [point()]);
    const moved = text(encoder, [point({ group: 'gate', model_version: '2.0.0' })]);
    assert.ok(moved.includes(',group=gate,'), moved);
    assert.ok(moved.includes(',model_version=2.0.0,'), moved);
    assert.equal(text(encoder, [point()]), encode(point()));
  });

  it('keeps the cache bounded: it is cleared when a new device would pass the limit', () => {
    const encoder = new TelemetryLineEncoder(3);
    text(
      encoder,
      ['a', 'b', 'c'].map((device) => point({ device })),
    );
    assert.equal(encoder.cachedDevices, 3);
    text(encoder, [point({ device: 'a', slot: 'green' })]); // a known device: replaced, no growth
    assert.equal(encoder.cachedDevices, 3);
    const line = text(encoder, [point({ device: 'd' })]);
    assert.equal(encoder.cachedDevices, 1);
    assert.equal(line, encode(point({ device: 'd' })));
  });
});

describe('line protocol escaping', () => {
  it('escapes commas, equals signs and spaces in tag keys and values', () => {
    // Expected strings are the raw line protocol text, as in the reference's examples.
    assert.equal(escapeTag('plain-value_1.0'), 'plain-value_1.0');
    assert.equal(escapeTag('a b,c=d'), String.raw`a\ b\,c\=d`);
    assert.equal(escapeTag('"quoted"'), '"quoted"'); // quotes are literal in tags
  });

  it('leaves backslashes literal (InfluxDB 1.x reads `a\\,b` back as a backslash and a comma)', () => {
    assert.equal(escapeTag(String.raw`C:\models`), String.raw`C:\models`);
    assert.equal(escapeTag(String.raw`a\,b`), String.raw`a\\,b`);
    assert.equal(escapeTag(String.raw`a\ b`), String.raw`a\\ b`);
  });

  it('drops trailing backslashes, which no tag value can end with', () => {
    assert.equal(escapeTag(String.raw`v1\\`), 'v1');
    assert.equal(escapeTag(String.raw`a\ \ `), String.raw`a\\ \\ `); // the last one is a space
    assert.equal(escapeTag('\\'), '');
  });

  it('turns line breaks into spaces, since a line break ends the point', () => {
    assert.equal(escapeTag('two\nlines\r\n'), String.raw`two\ lines\ \ `);
  });

  it('leaves out a tag whose value is empty, as InfluxDB asks', () => {
    const line = encode(point({ slot: '', model_id: '\\' }));
    assert.ok(!line.includes('slot='), line);
    assert.ok(!line.includes('model_id='), line);
    assert.ok(line.includes(',model_version=1.4.0 '), line);
  });

  it('escapes commas and spaces in measurement names, not equals signs', () => {
    assert.equal(escapeMeasurement('my measurement,x=1'), String.raw`my\ measurement\,x=1`);
  });

  it('escapes double quotes and backslashes in string field values, and quotes them', () => {
    assert.equal(quoteString('plain'), '"plain"');
    assert.equal(quoteString(String.raw`say "hi" \ bye\\`), String.raw`"say \"hi\" \\ bye\\\\"`);
    assert.equal(quoteString('a, b=c'), '"a, b=c"'); // nothing else needs escaping in quotes
  });
});

describe('encodeDeploymentEvents', () => {
  it('writes the events with their tags sorted and string fields', () => {
    const body = encodeDeploymentEvents([
      {
        time: new Date(T),
        deployment: 'dep-1',
        type: 'rolled_back',
        environment: 'production',
        text: 'fps "dropped", 30 -> 20',
        model_version: '2.0.0',
        actor: 'rules',
        groups: 'yard,gate',
      },
    ]);
    assert.equal(
      body,
      'deployment_events,deployment=dep-1,environment=production,type=rolled_back ' +
        'actor="rules",groups="yard,gate",model_version="2.0.0",text="fps \\"dropped\\", 30 -> 20" ' +
        `${T}\n`,
    );
  });
});
