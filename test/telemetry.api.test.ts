// GET /api/v1/telemetry through HTTP, on a hub with the embedded store and on one with InfluxDB:
// defaults, filters, by=device, and 400s that name the parameter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  TELEMETRY_STORE,
  type TelemetryPoint,
  type TelemetryStore,
} from '../src/telemetry/telemetry-store.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { skipWithoutInflux, startInflux, type InfluxServer } from './support/influx.js';
import { T0, telemetryPoint } from './support/telemetry-points.js';

const V1 = randomUUID();
const V2 = randomUUID();
const DEP = randomUUID();

function point(
  device: string,
  model: string,
  seconds: number,
  fields: Partial<TelemetryPoint> = {},
  group = 'yard',
  deployment: string = DEP,
): TelemetryPoint {
  const p = telemetryPoint(device, '1.0.0', seconds, fields, deployment);
  p.tags.model_id = model;
  p.tags.group = group;
  return p;
}

interface Answer {
  from: string;
  to: string;
  step_s: number;
  by: string;
  series: {
    device: string | null;
    model_version: string;
    points: { time: string; windows: number; fps: number; map: number | null }[];
  }[];
}

const FROM = new Date(T0).toISOString();
const TO = new Date(T0 + 120_000).toISOString();

const SETUPS = [
  { name: 'embedded store', skip: false as string | false, influx: false },
  { name: 'InfluxDB', skip: skipWithoutInflux, influx: true },
];

for (const setup of SETUPS) {
  describe(`GET /api/v1/telemetry (${setup.name})`, { skip: setup.skip }, () => {
    let hub: InProcessHub;
    let influx: InfluxServer | undefined;
    const get = async (query: string) => api(hub)(`/api/v1/telemetry${query}`);
    const ok = async (query: string): Promise<Answer> => {
      const response = await get(query);
      const body = (await response.json()) as Answer;
      assert.equal(response.status, 200, JSON.stringify(body));
      return body;
    };

    before(async () => {
      influx = setup.influx ? await startInflux() : undefined;
      hub = await startHub(influx ? { INFLUX_URL: influx.url, INFLUX_DB: 'sentinel_api' } : {});
      const store = hub.app.get<TelemetryStore>(TELEMETRY_STORE);
      await store.init();
      await store.write([
        point('cam-1', V1, 5, { fps: 10 }),
        point('cam-2', V1, 20, { fps: 20, map: 0.4 }),
        point('cam-2', V1, 70, { fps: 30 }),
        point('cam-3', V2, 40, { fps: 5 }, 'gate', 'none'),
        // Five minutes ago: inside the default range (the last hour).
        point('cam-1', V2, (Date.now() - 300_000 - T0) / 1000, { fps: 8 }),
      ]);
    });
    after(async () => {
      await hub?.stop();
      await influx?.stop();
    });

    it('defaults to the last hour in 10 s buckets, by model version', async () => {
      const before = Date.now();
      const body = await ok('');
      const to = Date.parse(body.to);
      assert.ok(to >= before && to <= Date.now(), body.to);
      assert.equal(to - Date.parse(body.from), 3_600_000);
      assert.equal(body.step_s, 10);
      assert.equal(body.by, 'model_version');
      const recent = body.series.find((s) => s.model_version === V2);
      assert.deepEqual(
        recent?.points.map((p) => [p.windows, p.fps]),
        [[1, 8]],
      );
      assert.equal(recent?.device, null);
    });

    it('answers a range in the step asked for, series sorted by model version', async () => {
      const body = await ok(`?from=${FROM}&to=${TO}&step=1m`);
      assert.equal(body.step_s, 60);
      assert.equal(body.from, FROM);
      assert.equal(body.to, TO);
      const expected = [
        {
          model_version: V1,
          points: [
            [FROM, 2, 15, 0.4],
            [new Date(T0 + 60_000).toISOString(), 1, 30, null],
          ],
        },
        { model_version: V2, points: [[FROM, 1, 5, null]] },
      ].sort((a, b) => (a.model_version < b.model_version ? -1 : 1));
      assert.deepEqual(
        body.series.map((s) => ({
          model_version: s.model_version,
          points: s.points.map((p) => [p.time, p.windows, p.fps, p.map]),
        })),
        expected,
      );
    });

    it('gives a series per device with by=device, and combines the filters', async () => {
      const range = `from=${FROM}&to=${TO}&step=30`;
      const devices = async (query: string) =>
        (await ok(`?${range}&${query}`)).series.map(
          (s) => `${s.device}@${s.model_version === V1 ? 'v1' : 'v2'}`,
        );
      assert.deepEqual(await devices('by=device&model_version=' + V1), ['cam-1@v1', 'cam-2@v1']);
      assert.deepEqual(await devices('by=device&device=cam-2'), ['cam-2@v1']);
      assert.deepEqual(await devices('by=device&group=gate'), ['cam-3@v2']);
      assert.deepEqual(await devices(`by=device&deployment=${DEP}&group=yard`), [
        'cam-1@v1',
        'cam-2@v1',
      ]);
      assert.deepEqual(await devices(`by=device&deployment=${DEP}&group=gate`), []);
      assert.deepEqual(await devices(`device=cam-2&model_version=${V2}`), []);
      // Without by=device, a filter by device still gives one series per version, device null.
      assert.deepEqual(await devices('device=cam-2'), ['null@v1']);
    });

    it('refuses bad values with 400 and a message naming the parameter', async () => {
      const cases: [string, RegExp][] = [
        ['?model_version=cam-1', /^model_version must be a model version id/],
        ['?deployment=42', /^deployment must be a deployment id/],
        ['?device=Not%20An%20Id', /^device must be /],
        ['?group=a/b', /^group must be /],
        ['?from=yesterday', /^from must be an ISO 8601 time/],
        ['?to=2026-12-07T10:00:00', /^to must be an ISO 8601 time with a zone/],
        [`?from=${TO}&to=${FROM}`, /^from .* must be before to/],
        [`?from=${FROM}&to=${FROM}`, /^from .* must be before to/],
        ['?from=2026-01-01T00:00:00Z&to=2026-02-02T00:00:00Z', /at most 31 days/],
        ['?step=0', /^step must be a whole number of seconds/],
        ['?step=1s', /^step 1 s gives 3600 buckets over this range; at most 2000/],
        ['?by=group', /^by must be one of model_version, device/],
        [`?from=${FROM}&from=${TO}`, /^from must be given once/],
        ['?limit=10', /property limit should not exist/],
      ];
      const failures: string[] = [];
      for (const [query, message] of cases) {
        const response = await get(query);
        const body = (await response.json()) as { statusCode: number; message: string };
        if (response.status !== 400 || !message.test(body.message))
          failures.push(`${query}: ${response.status} ${body.message}`);
      }
      assert.deepEqual(failures, []);
    });
  });
}
