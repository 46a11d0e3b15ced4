import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DataSource, type Logger } from 'typeorm';
import { DeviceCredentials } from '../src/fleet/device-credentials.js';
import { DeviceStateWriter, type DeviceStateReport } from '../src/fleet/device-state-writer.js';
import { verifyMosquittoHash } from '../src/fleet/domain/mosquitto-passwd.js';
import { FleetEvents, type FleetEventMap } from '../src/fleet/fleet-events.js';
import { GroupsService } from '../src/fleet/groups.service.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';
import { json } from './support/push.js';

/** When the state-report tests' batches were made: a recent whole second, the same for all. */
const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ENGINES = [
  { name: 'PGlite (embedded)', skip: false as const, database: async () => null },
  { name: 'PostgreSQL', skip: skipWithoutPostgres, database: () => createTestDatabase() },
];

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Records the SQL statements the hub sends while `run` runs, through TypeORM's logger hook. */
async function countingQueries<T>(
  dataSource: DataSource,
  run: () => Promise<T>,
): Promise<{ result: T; queries: string[] }> {
  const original = dataSource.logger;
  const queries: string[] = [];
  dataSource.logger = new Proxy(original, {
    get(target, property, receiver) {
      if (property === 'logQuery') {
        return (query: string, ...rest: unknown[]) => {
          queries.push(query);
          return (target.logQuery as (...args: unknown[]) => unknown).call(target, query, ...rest);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  }) as Logger;
  try {
    return { result: await run(), queries };
  } finally {
    dataSource.logger = original;
  }
}

for (const engine of ENGINES) {
  describe(`fleet API on ${engine.name}`, { skip: engine.skip }, () => {
    let hub: InProcessHub;
    let database: TestDatabase | null;
    let call: ReturnType<typeof api>;
    let dataSource: DataSource;
    let credentials: DeviceCredentials;
    const events: { name: keyof FleetEventMap; payload: unknown }[] = [];
    const unsubscribe: (() => void)[] = [];

    const send = (method: string, path: string, body?: unknown, token?: string) =>
      (token ? api(hub, token) : call)(path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const eventsNamed = (name: keyof FleetEventMap) =>
      events.filter((event) => event.name === name).map((event) => event.payload);

    before(async () => {
      database = await engine.database();
      hub = await startHub(database ? { DATABASE_URL: database.url } : {});
      call = api(hub);
      dataSource = hub.app.get(DataSource);
      credentials = hub.app.get(DeviceCredentials);
      const fleetEvents = hub.app.get(FleetEvents);
      for (const name of [
        'device.deleted',
        'device.credentials_rotated',
        'device.moved',
        'group.deleted',
      ] as const) {
        unsubscribe.push(fleetEvents.on(name, (payload) => events.push({ name, payload })));
      }
    });
    after(async () => {
      for (const off of unsubscribe) off();
      await hub?.stop();
      await database?.drop();
    });

    let cam: Body;
    /** The passwords handed out at creation, by device id. */
    const secrets = new Map<string, string>();

    it('creates a group: 201 with its fields and no devices yet', async () => {
      const response = await send('POST', '/api/v1/groups', {
        name: 'yard',
        environment: 'production',
        labels: { site: 'north' },
      });
      assert.equal(response.status, 201, await response.clone().text());
      const group: Body = await json(response);
      assert.match(group.id, /^[0-9a-f-]{36}$/);
      assert.equal(group.name, 'yard');
      assert.equal(group.environment, 'production');
      assert.deepEqual(group.labels, { site: 'north' });
      assert.equal(group.device_count, 0);
      assert.equal(group.desired_seq, 0);
      assert.equal(group.desired, null);
      const fetched: Body = await json(await send('GET', '/api/v1/groups/yard'));
      assert.equal(fetched.id, group.id);
    });

    it('refuses a second group of the same name with 409', async () => {
      const response = await send('POST', '/api/v1/groups', {
        name: 'yard',
        environment: 'staging',
      });
      assert.equal(response.status, 409);
      assert.deepEqual(await json(response), {
        statusCode: 409,
        error: 'CONFLICT',
        message: 'group yard already exists',
      });
    });

    it('refuses group names and environments that are not one topic level, naming the field', async () => {
      const cases: [Body, RegExp][] = [
        [{ name: 'Yard', environment: 'production' }, /^name must be 1-64 characters/],
        [{ name: 'a/b', environment: 'production' }, /^name must be/],
        [{ name: 'a+', environment: 'production' }, /^name must be/],
        [{ name: 'a#', environment: 'production' }, /^name must be/],
        [{ name: 'ok', environment: 'Prod uction' }, /^environment must be/],
        [{ name: 'ok', environment: 'production', labels: ['x'] }, /^labels must be a JSON object/],
        [
          { name: 'ok', environment: 'production', labels: { a: 1 } },
          /^labels\.a must be a string/,
        ],
        [{ environment: 'production' }, /^name must be/],
      ];
      for (const [body, message] of cases) {
        const response = await send('POST', '/api/v1/groups', body);
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.match((await json<{ message: string }>(response)).message, message);
      }
      assert.equal((await send('GET', '/api/v1/groups/Yard')).status, 400);
      assert.equal((await send('GET', '/api/v1/groups/nope')).status, 404);
    });

    it('creates a device and shows its MQTT credentials once', async () => {
      const response = await send('POST', '/api/v1/devices', {
        id: 'cam-01',
        name: 'North gate',
        group: 'yard',
        labels: { mount: 'pole' },
      });
      assert.equal(response.status, 201, await response.clone().text());
      cam = await json(response);
      assert.equal(cam.id, 'cam-01');
      assert.equal(cam.name, 'North gate');
      assert.equal(cam.group, 'yard');
      assert.equal(cam.environment, 'production');
      assert.deepEqual(cam.labels, { mount: 'pole' });
      assert.equal(cam.online, false);
      assert.equal(cam.last_seen_at, null);
      assert.equal(cam.reported, null);
      assert.equal(cam.agent_version, null);
      assert.equal(cam.credentials.username, 'cam-01');
      assert.equal(cam.credentials.client_id, 'cam-01');
      assert.match(cam.credentials.password, /^[A-Za-z0-9_-]{43}$/);

      const fetched = await send('GET', '/api/v1/devices/cam-01');
      const text = await fetched.text();
      assert.equal(fetched.status, 200);
      assert.ok(!text.includes(cam.credentials.password));
      assert.ok(!('credentials' in JSON.parse(text)));
      assert.ok(!/credential_hash|mosquitto_hash/.test(text));
      const listed = await (await send('GET', '/api/v1/devices')).text();
      assert.ok(!listed.includes(cam.credentials.password));

      const group: Body = await json(await send('GET', '/api/v1/groups/yard'));
      assert.equal(group.device_count, 1);
    });

    it('stores only hashes of the secret, and audits without it', async () => {
      const [row] = await dataSource.query(
        'SELECT credential_hash, mosquitto_hash FROM devices WHERE id = $1',
        ['cam-01'],
      );
      assert.equal(row.credential_hash, sha256(cam.credentials.password));
      assert.ok(verifyMosquittoHash(cam.credentials.password, row.mosquitto_hash));
      const audit: Body[] = await dataSource.query(
        "SELECT actor, action, details FROM audit_events WHERE target_type = 'device'",
      );
      assert.deepEqual(
        audit.map((event) => event.action),
        ['device.create'],
      );
      assert.equal(audit[0].actor, 'token:bootstrap-admin');
      assert.ok(!JSON.stringify(audit).includes(cam.credentials.password));
    });

    it('verifies the device secret through DeviceCredentials', async () => {
      assert.deepEqual(await credentials.verify('cam-01', cam.credentials.password), {
        kind: 'device',
        deviceId: 'cam-01',
        group: 'yard',
      });
      assert.equal(await credentials.verify('cam-01', `${cam.credentials.password}x`), null);
      assert.equal(await credentials.verify('cam-01', ''), null);
      assert.equal(await credentials.verify('cam-99', cam.credentials.password), null);
      assert.equal(await credentials.verify('CAM-01', cam.credentials.password), null);
    });

    it('refuses a duplicate device id with 409, bad ids with 400 and an unknown group with 400', async () => {
      const duplicate = await send('POST', '/api/v1/devices', { id: 'cam-01', group: 'yard' });
      assert.equal(duplicate.status, 409);
      assert.equal((await json<Body>(duplicate)).message, 'device cam-01 already exists');

      for (const id of ['Cam-02', 'cam/02', 'cam+02', 'cam#02', '$cam', '', 'x'.repeat(65)]) {
        const response = await send('POST', '/api/v1/devices', { id, group: 'yard' });
        assert.equal(response.status, 400, id);
        assert.match((await json<Body>(response)).message, /^id must be 1-64 characters/, id);
      }
      const unknown = await send('POST', '/api/v1/devices', { id: 'cam-02', group: 'nowhere' });
      assert.equal(unknown.status, 400);
      assert.match((await json<Body>(unknown)).message, /group "nowhere" does not exist/);
      const extra = await send('POST', '/api/v1/devices', {
        id: 'cam-02',
        group: 'yard',
        secret: 'mine',
      });
      assert.equal(extra.status, 400);
      assert.match((await json<Body>(extra)).message, /property secret should not exist/);
      assert.equal((await send('GET', '/api/v1/devices/cam-02')).status, 404);
      assert.equal((await send('GET', '/api/v1/devices/Cam-02')).status, 400);
    });

    it('lists devices with group, environment and online filters, paginated by id', async () => {
      assert.equal(
        (await send('POST', '/api/v1/groups', { name: 'depot', environment: 'staging' })).status,
        201,
      );
      for (const [id, group] of [
        ['cam-02', 'yard'],
        ['cam-03', 'yard'],
        ['cam-04', 'yard'],
        ['dep-01', 'depot'],
        ['dep-02', 'depot'],
      ]) {
        const response = await send('POST', '/api/v1/devices', { id, group });
        assert.equal(response.status, 201);
        secrets.set(id, (await json<Body>(response)).credentials.password);
      }
      const now = new Date();
      await hub.app.get(DeviceStateWriter).record([
        { deviceId: 'cam-02', online: true, at: now, reported: { device_id: 'cam-02' } },
        { deviceId: 'dep-01', online: true, at: now, reported: { device_id: 'dep-01' } },
      ]);

      const ids = async (query: string) => {
        const response = await send('GET', `/api/v1/devices${query}`);
        assert.equal(response.status, 200, await response.clone().text());
        const body: Body = await json(response);
        return { ids: (body.items as Body[]).map((d) => d.id), total: body.total };
      };
      assert.deepEqual(await ids('?group=yard'), {
        ids: ['cam-01', 'cam-02', 'cam-03', 'cam-04'],
        total: 4,
      });
      assert.deepEqual(await ids('?environment=staging'), { ids: ['dep-01', 'dep-02'], total: 2 });
      assert.deepEqual(await ids('?online=true'), { ids: ['cam-02', 'dep-01'], total: 2 });
      assert.deepEqual(await ids('?online=false&group=depot'), { ids: ['dep-02'], total: 1 });
      assert.deepEqual(await ids('?limit=2&offset=2'), { ids: ['cam-03', 'cam-04'], total: 6 });
      assert.deepEqual(await ids('?group=nowhere'), { ids: [], total: 0 });
      const page: Body = await json(await send('GET', '/api/v1/devices?limit=2&offset=4'));
      assert.equal(page.limit, 2);
      assert.equal(page.offset, 4);

      for (const [query, message] of [
        ['?online=maybe', /online must be true or false/],
        ['?limit=0', /limit must be an integer from 1 to 500/],
        ['?group=a/b', /^group must be 1-64 characters/],
      ] as const) {
        const response = await send('GET', `/api/v1/devices${query}`);
        assert.equal(response.status, 400, query);
        assert.match((await json<Body>(response)).message, message);
      }
    });

    it('lists groups with their device counts, filtered by environment', async () => {
      const all: Body = await json(await send('GET', '/api/v1/groups'));
      assert.deepEqual(
        (all.items as Body[]).map((g) => [g.name, g.device_count]),
        [
          ['depot', 2],
          ['yard', 4],
        ],
      );
      assert.equal(all.total, 2);
      const staging: Body = await json(await send('GET', '/api/v1/groups?environment=staging'));
      assert.deepEqual(
        (staging.items as Body[]).map((g) => g.name),
        ['depot'],
      );
    });

    it('moves a device to another group: the event fires and its credentials say the new group', async () => {
      const password = secrets.get('cam-04')!;
      assert.equal((await credentials.verify('cam-04', password))?.group, 'yard'); // now cached

      const response = await send('PATCH', '/api/v1/devices/cam-04', {
        group: 'depot',
        name: 'Depot door',
        labels: { mount: 'wall' },
      });
      assert.equal(response.status, 200, await response.clone().text());
      const moved: Body = await json(response);
      assert.equal(moved.group, 'depot');
      assert.equal(moved.environment, 'staging');
      assert.equal(moved.name, 'Depot door');
      assert.deepEqual(moved.labels, { mount: 'wall' });
      assert.deepEqual(eventsNamed('device.moved'), [
        { deviceId: 'cam-04', from: 'yard', to: 'depot' },
      ]);
      assert.equal((await credentials.verify('cam-04', password))?.group, 'depot');

      const rename = await send('PATCH', '/api/v1/devices/cam-04', { name: 'Depot door 2' });
      assert.equal(rename.status, 200);
      assert.equal(eventsNamed('device.moved').length, 1); // a rename is not a move

      const unknown = await send('PATCH', '/api/v1/devices/cam-04', { group: 'nowhere' });
      assert.equal(unknown.status, 400);
      assert.match((await json<Body>(unknown)).message, /group "nowhere" does not exist/);
      const badLabels = await send('PATCH', '/api/v1/devices/cam-04', { labels: { 'a b': 'x' } });
      assert.equal(badLabels.status, 400);
      assert.match((await json<Body>(badLabels)).message, /^labels key "a b"/);
      assert.equal((await send('PATCH', '/api/v1/devices/cam-77', { name: 'x' })).status, 404);
    });

    it('rotates credentials: the old secret stops verifying at once, the new one works', async () => {
      const old = cam.credentials.password as string;
      assert.ok(await credentials.verify('cam-01', old)); // cached from before
      const before: Body = await json(await send('GET', '/api/v1/devices/cam-01'));

      const response = await send('POST', '/api/v1/devices/cam-01/rotate-credentials');
      assert.equal(response.status, 200);
      const rotated: Body = await json(response);
      assert.equal(rotated.id, 'cam-01');
      assert.equal(rotated.credentials.username, 'cam-01');
      assert.notEqual(rotated.credentials.password, old);
      assert.ok(rotated.credential_rotated_at >= before.credential_rotated_at);
      assert.deepEqual(eventsNamed('device.credentials_rotated'), [{ deviceId: 'cam-01' }]);

      assert.equal(await credentials.verify('cam-01', old), null);
      assert.deepEqual(await credentials.verify('cam-01', rotated.credentials.password), {
        kind: 'device',
        deviceId: 'cam-01',
        group: 'yard',
      });
      cam = rotated;
      assert.equal((await send('POST', '/api/v1/devices/cam-77/rotate-credentials')).status, 404);
      const audit: Body[] = await dataSource.query(
        "SELECT details FROM audit_events WHERE action = 'device.rotate_credentials'",
      );
      assert.equal(audit.length, 1);
      assert.ok(!JSON.stringify(audit).includes(rotated.credentials.password));
    });

    describe('at fleet scale', () => {
      const COUNT = 500;
      const ids = Array.from({ length: COUNT }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
      const secretOf = (id: string) => `secret-of-${id}`;

      before(async () => {
        // Straight into the table: these tests are about the look-up and write paths, not about creating devices.
        await dataSource.query(
          `INSERT INTO devices (id, name, group_id, credential_hash, mosquitto_hash)
           SELECT id, id, (SELECT id FROM device_groups WHERE name = 'depot'), hash, '$7$1$AA==$AA=='
             FROM unnest($1::text[], $2::text[]) AS t(id, hash)`,
          [ids, ids.map((id) => sha256(secretOf(id)))],
        );
      });

      it('checks 500 concurrent CONNECTs with one query, then from the cache with none', async () => {
        const first = await countingQueries(dataSource, () =>
          Promise.all(ids.map((id) => credentials.verify(id, secretOf(id)))),
        );
        assert.ok(first.result.every((principal, i) => principal?.deviceId === ids[i]));
        assert.ok(first.result.every((principal) => principal?.group === 'depot'));
        const lookups = first.queries.filter((query) => query.includes('credential_hash'));
        assert.equal(lookups.length, 1, lookups.join('\n'));

        const again = await countingQueries(dataSource, () =>
          Promise.all(ids.map((id) => credentials.verify(id, secretOf(id)))),
        );
        assert.ok(again.result.every((principal) => principal !== null));
        assert.deepEqual(again.queries, []);

        const wrong = await Promise.all(ids.map((id) => credentials.verify(id, secretOf('x'))));
        assert.ok(wrong.every((principal) => principal === null));
      });

      it('writes 1,000 state reports with one statement; the later report of a device wins', async () => {
        const reports: DeviceStateReport[] = [];
        for (const [i, id] of ids.entries()) {
          // Each device reports twice, the later one listed first half the time: order in the batch must not matter.
          const early: DeviceStateReport = {
            deviceId: id,
            online: true,
            at: new Date(t0),
            reported: { device_id: id, n: 1 },
            agentVersion: '1.0.0',
          };
          const late: DeviceStateReport = {
            deviceId: id,
            online: i % 2 === 0,
            at: new Date(t0 + 1000),
            reported: { device_id: id, n: 2 },
            agentVersion: '1.1.0',
          };
          reports.push(...(i % 2 === 0 ? [early, late] : [late, early]));
        }
        reports.push({ deviceId: 'not-a-device', online: true, at: new Date(t0), reported: {} });
        assert.equal(reports.length, 2 * COUNT + 1);

        const writer = hub.app.get(DeviceStateWriter);
        const { queries } = await countingQueries(dataSource, () => writer.record(reports));
        assert.equal(queries.filter((q) => /UPDATE\s+devices/i.test(q)).length, 1);

        const rows: Body[] = await dataSource.query(
          `SELECT id, online, last_seen_at, reported, agent_version FROM devices
            WHERE id = ANY($1::text[]) ORDER BY id`,
          [ids],
        );
        assert.equal(rows.length, COUNT);
        for (const [i, row] of rows.entries()) {
          assert.equal(row.online, i % 2 === 0, row.id);
          assert.equal(new Date(row.last_seen_at).getTime(), t0 + 1000);
          assert.deepEqual(row.reported, { device_id: row.id, n: 2 });
          assert.equal(row.agent_version, '1.1.0');
        }
        const [{ count }] = await dataSource.query(
          "SELECT count(*)::int AS count FROM devices WHERE id = 'not-a-device'",
        );
        assert.equal(count, 0);
      });

      it('ignores a batch older than what is stored, and keeps the last state when a report carries none', async () => {
        const writer = hub.app.get(DeviceStateWriter);
        await writer.record([
          { deviceId: ids[0], online: false, at: new Date(t0 - 5000), reported: { stale: true } },
          { deviceId: ids[1], online: true, at: new Date(t0 + 2000), reported: null },
        ]);
        const [stale, bare]: Body[] = await dataSource.query(
          'SELECT id, online, reported, agent_version FROM devices WHERE id = ANY($1::text[]) ORDER BY id',
          [[ids[0], ids[1]]],
        );
        assert.equal(stale.online, true);
        assert.deepEqual(stale.reported, { device_id: ids[0], n: 2 });
        assert.equal(bare.online, true);
        assert.deepEqual(bare.reported, { device_id: ids[1], n: 2 });
        assert.equal(bare.agent_version, '1.1.0');
      });

      after(async () => {
        await dataSource.query('DELETE FROM devices WHERE id = ANY($1::text[])', [ids]);
      });
    });

    it('shows what a device reported in its detail', async () => {
      const at = new Date();
      await hub.app.get(DeviceStateWriter).record([
        {
          deviceId: 'cam-01',
          online: true,
          at,
          reported: { device_id: 'cam-01', active_slot: 'a' },
          agentVersion: '0.3.1',
        },
      ]);
      const device: Body = await json(await send('GET', '/api/v1/devices/cam-01'));
      assert.equal(device.online, true);
      assert.equal(device.last_seen_at, at.toISOString());
      assert.deepEqual(device.reported, { device_id: 'cam-01', active_slot: 'a' });
      assert.equal(device.agent_version, '0.3.1');
    });

    it('stores the capabilities once, in their own column, and shows them in the reported state', async () => {
      const writer = hub.app.get(DeviceStateWriter);
      const dataSource = hub.app.get(DataSource);
      const capabilities = { ort_version: '1.30.0', max_opset: 25, labels: ['camera:ip67'] };
      const report = (n: number, caps: object): DeviceStateReport => ({
        deviceId: 'cam-02',
        online: true,
        at: new Date(Date.now() + n),
        reported: { device_id: 'cam-02', n, capabilities: caps },
      });
      await writer.record([report(1, capabilities)]);
      // Someone else's write in between: the same capabilities again are not written again.
      await dataSource.query(
        `UPDATE devices SET capabilities = '{"marker": true}' WHERE id = 'cam-02'`,
      );
      await writer.record([report(2, capabilities)]);
      const [row] = await dataSource.query(
        "SELECT reported, capabilities FROM devices WHERE id = 'cam-02'",
      );
      assert.deepEqual(row.reported, { device_id: 'cam-02', n: 2 });
      assert.deepEqual(row.capabilities, { marker: true });
      // New capabilities are written.
      const upgraded = { ...capabilities, ort_version: '1.31.0' };
      await writer.record([report(3, upgraded)]);
      const device: Body = await json(await send('GET', '/api/v1/devices/cam-02'));
      assert.deepEqual(device.capabilities, upgraded);
      assert.deepEqual(device.reported, { device_id: 'cam-02', n: 3, capabilities: upgraded });
    });

    it('exports a Mosquitto password file whose lines verify with the device secrets', async () => {
      const response = await send('GET', '/api/v1/broker/mosquitto-passwd');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      const lines = (await response.text()).trimEnd().split('\n');
      assert.deepEqual(
        lines.map((line) => line.split(':')[0]),
        ['cam-01', 'cam-02', 'cam-03', 'cam-04', 'dep-01', 'dep-02'],
      );
      const camLine = lines.find((line) => line.startsWith('cam-01:'))!;
      const hash = camLine.slice('cam-01:'.length);
      assert.match(hash, /^\$7\$101\$/);
      assert.ok(verifyMosquittoHash(cam.credentials.password, hash));
      assert.ok(!verifyMosquittoHash('not-the-secret', hash));
      const [audit] = await dataSource.query(
        "SELECT count(*)::int AS count FROM audit_events WHERE action = 'broker.export_passwd'",
      );
      assert.equal(audit.count, 1);
    });

    it('exports a Mosquitto ACL file with each device limited to its own topics', async () => {
      const response = await send('GET', '/api/v1/broker/mosquitto-acl?hub_user=hub-7');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await response.text();
      assert.ok(text.includes('user hub-7\ntopic readwrite sentinel/v1/#\n'));
      assert.ok(
        text.includes(
          'user cam-04\n' +
            'topic read sentinel/v1/groups/depot/desired\n' +
            'topic read sentinel/v1/devices/cam-04/desired\n' +
            'topic read sentinel/v1/devices/cam-04/commands\n' +
            'topic read sentinel/v1/groups/depot/models/+/desired\n' +
            'topic read sentinel/v1/devices/cam-04/models/+/desired\n' +
            'topic write sentinel/v1/devices/cam-04/state\n' +
            'topic write sentinel/v1/devices/cam-04/telemetry\n',
        ),
      );
      assert.equal(text.match(/^user /gm)?.length, 7); // the hub + 6 devices
      const byDefault = await (await send('GET', '/api/v1/broker/mosquitto-acl')).text();
      assert.ok(byDefault.includes('user sentinel-hub\n'));
      const bad = await send(
        'GET',
        '/api/v1/broker/mosquitto-acl?hub_user=a%0Atopic%20readwrite%20%23',
      );
      assert.equal(bad.status, 400);
      assert.match((await json<Body>(bad)).message, /^hub_user/);
    });

    it('deletes a device: 204, the event fires, its secret stops verifying and it is gone', async () => {
      const secret = secrets.get('cam-03')!;
      assert.ok(await credentials.verify('cam-03', secret)); // now cached
      assert.equal((await send('DELETE', '/api/v1/devices/cam-03')).status, 204);
      assert.deepEqual(eventsNamed('device.deleted'), [{ deviceId: 'cam-03' }]);
      assert.equal(await credentials.verify('cam-03', secret), null);
      assert.equal((await send('GET', '/api/v1/devices/cam-03')).status, 404);
      assert.equal((await send('DELETE', '/api/v1/devices/cam-03')).status, 404);
    });

    it('deletes a group: its devices stay without a group, the event lists them, the broker files drop them', async () => {
      const secret = secrets.get('dep-01')!;
      assert.equal((await credentials.verify('dep-01', secret))?.group, 'depot');

      assert.equal((await send('DELETE', '/api/v1/groups/depot')).status, 204);
      assert.deepEqual(eventsNamed('group.deleted'), [
        { group: 'depot', deviceIds: ['cam-04', 'dep-01', 'dep-02'] },
      ]);
      assert.equal((await send('GET', '/api/v1/groups/depot')).status, 404);
      assert.equal((await send('DELETE', '/api/v1/groups/depot')).status, 404);

      const orphan: Body = await json(await send('GET', '/api/v1/devices/dep-01'));
      assert.equal(orphan.group, null);
      assert.equal(orphan.environment, null);
      assert.deepEqual(await credentials.verify('dep-01', secret), {
        kind: 'device',
        deviceId: 'dep-01',
        group: null,
      });
      const passwd = await (await send('GET', '/api/v1/broker/mosquitto-passwd')).text();
      assert.deepEqual(
        passwd
          .trimEnd()
          .split('\n')
          .map((line) => line.split(':')[0]),
        ['cam-01', 'cam-02'],
      );
      const acl = await (await send('GET', '/api/v1/broker/mosquitto-acl')).text();
      assert.ok(!acl.includes('dep-01'));

      // Moving it into a group again brings it back.
      const back = await send('PATCH', '/api/v1/devices/dep-01', { group: 'yard' });
      assert.equal((await json<Body>(back)).group, 'yard');
      assert.deepEqual(eventsNamed('device.moved').at(-1), {
        deviceId: 'dep-01',
        from: null,
        to: 'yard',
      });
    });

    it('lists the groups that have a desired state, for re-publishing at start', async () => {
      await dataSource.query(
        `UPDATE device_groups SET desired = '{"seq": 3}', desired_seq = 3 WHERE name = 'yard'`,
      );
      assert.equal(
        (await send('POST', '/api/v1/groups', { name: 'empty', environment: 'dev' })).status,
        201,
      );
      const groups = await hub.app.get(GroupsService).listAllGroupsWithDesired();
      assert.deepEqual(
        groups.map((group) => [group.name, group.desiredSeq, group.desired]),
        [['yard', 3, { seq: 3 }]],
      );
    });
  });
}
