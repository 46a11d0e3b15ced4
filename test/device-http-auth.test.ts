import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createDevice, createGroup, type DeviceCredentialsResponse } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';
import { json, pushModel } from './support/push.js';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ENGINES = [
  { name: 'PGlite (embedded)', skip: false as const, database: async () => null },
  { name: 'PostgreSQL', skip: skipWithoutPostgres, database: () => createTestDatabase() },
];

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

for (const engine of ENGINES) {
  describe(`device credentials over HTTP on ${engine.name}`, { skip: engine.skip }, () => {
    let hub: InProcessHub;
    let database: TestDatabase | null;
    let call: ReturnType<typeof api>;
    let model: Body;
    let cam: DeviceCredentialsResponse;
    const bytes = fastModel();
    const sha256 = createHash('sha256').update(bytes).digest('hex');

    /** fetch as a device: `secret` defaults to the one the hub issued. */
    const asDevice = (
      path: string,
      device: DeviceCredentialsResponse,
      init: { secret?: string; headers?: Record<string, string> } = {},
    ) =>
      fetch(hub.url + path, {
        headers: {
          authorization: basic(device.id, init.secret ?? device.credentials.password),
          ...init.headers,
        },
      });
    const refusal = async (response: Response) => {
      const body = await json<{ statusCode: number; error: string; message: string }>(response);
      return { status: response.status, ...body };
    };

    before(async () => {
      database = await engine.database();
      hub = await startHub(database ? { DATABASE_URL: database.url } : {});
      call = api(hub);
      const pushed = await pushModel(hub, bytes, { name: 'detector', version: '1.0.0' });
      assert.equal(pushed.status, 201, await pushed.clone().text());
      model = await json(pushed);
      await createGroup(hub, 'yard', 'production');
      await createGroup(hub, 'depot', 'staging');
      cam = await createDevice(hub, 'cam-1', 'yard');
    });
    after(async () => {
      await hub?.stop();
      await database?.drop();
    });

    it('lets a device download an artifact with its credential, whole and by Range', async () => {
      const whole = await asDevice(`/api/v1/models/${model.id}/artifact`, cam);
      assert.equal(whole.status, 200);
      assert.equal(whole.headers.get('etag'), `"${sha256}"`);
      assert.deepEqual(Buffer.from(await whole.arrayBuffer()), Buffer.from(bytes));

      const part = await asDevice(`/api/v1/models/${model.id}/artifact`, cam, {
        headers: { range: 'bytes=100-199' },
      });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
      assert.deepEqual(
        Buffer.from(await part.arrayBuffer()),
        Buffer.from(bytes.subarray(100, 200)),
      );

      const notModified = await asDevice(`/api/v1/models/${model.id}/artifact`, cam, {
        headers: { 'if-none-match': `"${sha256}"` },
      });
      assert.equal(notModified.status, 304);
    });

    it('still serves the artifact to a bearer token with its role', async () => {
      const response = await call(`/api/v1/models/${model.id}/artifact`, {
        headers: { range: 'bytes=0-9' },
      });
      assert.equal(response.status, 206);
      await response.arrayBuffer();
    });

    it('refuses a wrong secret, an unknown device and a malformed Basic header with 401', async () => {
      const path = `/api/v1/models/${model.id}/artifact`;
      assert.deepEqual(await refusal(await asDevice(path, cam, { secret: 'wrong' })), {
        status: 401,
        statusCode: 401,
        error: 'UNAUTHENTICATED',
        message: 'unknown device or wrong device secret',
      });
      const stranger = { ...cam, id: 'cam-unknown' };
      assert.equal((await refusal(await asDevice(path, stranger))).status, 401);
      const malformed = await fetch(hub.url + path, {
        headers: { authorization: `Basic ${Buffer.from('no colon').toString('base64')}` },
      });
      assert.deepEqual(await refusal(malformed), {
        status: 401,
        statusCode: 401,
        error: 'UNAUTHENTICATED',
        message: 'malformed Basic credentials: expected base64 of "device_id:secret"',
      });
      const anonymous = await refusal(await fetch(hub.url + path));
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.message, /Bearer <token>, or Basic with the device id and secret/);
    });

    it('refuses a device credential on routes not open to devices, and says where it is accepted', async () => {
      for (const path of [
        `/api/v1/models/${model.id}`,
        '/api/v1/models',
        '/api/v1/devices/cam-1',
        '/api/v1/groups/yard/desired',
      ]) {
        assert.deepEqual(
          await refusal(await asDevice(path, cam)),
          {
            status: 401,
            statusCode: 401,
            error: 'UNAUTHENTICATED',
            message:
              'device credentials are only accepted for artifact downloads and /devices/me; this call needs a bearer token',
          },
          path,
        );
      }
    });

    it('tells a device its id, group and environment on GET /devices/me', async () => {
      const response = await asDevice('/api/v1/devices/me', cam);
      assert.equal(response.status, 200);
      assert.deepEqual(await json(response), {
        device_id: 'cam-1',
        group: 'yard',
        environment: 'production',
      });
    });

    it('answers GET /devices/me with 403 to a token, and 401 without a device credential', async () => {
      assert.deepEqual(await refusal(await call('/api/v1/devices/me')), {
        status: 403,
        statusCode: 403,
        error: 'FORBIDDEN',
        message:
          'only devices may make this call, with their credential (Authorization: Basic base64(device_id:secret)), not with a token',
      });
      assert.equal(
        (await refusal(await api(hub, 'stl_not-a-token')('/api/v1/devices/me'))).status,
        401,
      );
      const anonymous = await refusal(await fetch(`${hub.url}/api/v1/devices/me`));
      assert.equal(anonymous.status, 401);
      assert.equal(
        anonymous.message,
        'missing device credentials (Authorization: Basic base64(device_id:secret))',
      );
      assert.equal(
        (await refusal(await asDevice('/api/v1/devices/me', cam, { secret: 'wrong' }))).status,
        401,
      );
    });

    it('keeps "me" from ever being a device id', async () => {
      const response = await call('/api/v1/devices', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'me', group: 'yard' }),
      });
      assert.deepEqual(await refusal(response), {
        status: 400,
        statusCode: 400,
        error: 'VALIDATION_FAILED',
        message: 'id "me" is reserved (GET /api/v1/devices/me is the calling device)',
      });
    });

    it('shows a move on GET /devices/me at once, and group null once the group is deleted', async () => {
      const moved = await call('/api/v1/devices/cam-1', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ group: 'depot' }),
      });
      assert.equal(moved.status, 200);
      assert.deepEqual(await json(await asDevice('/api/v1/devices/me', cam)), {
        device_id: 'cam-1',
        group: 'depot',
        environment: 'staging',
      });

      assert.equal((await call('/api/v1/groups/depot', { method: 'DELETE' })).status, 204);
      assert.deepEqual(await json(await asDevice('/api/v1/devices/me', cam)), {
        device_id: 'cam-1',
        group: null,
        environment: null,
      });
      // Models are not secret from the fleet: a device without a group still downloads.
      const download = await asDevice(`/api/v1/models/${model.id}/artifact`, cam);
      assert.equal(download.status, 200);
      await download.arrayBuffer();
    });

    it('refuses the old secret at once after a rotation, though it was just cached', async () => {
      const device = await createDevice(hub, 'cam-rotate', 'yard');
      // A successful check puts the device's hash in DeviceCredentials' cache (30 s TTL).
      assert.equal((await asDevice('/api/v1/devices/me', device)).status, 200);
      const rotated = await call('/api/v1/devices/cam-rotate/rotate-credentials', {
        method: 'POST',
      });
      assert.equal(rotated.status, 200);
      const fresh = await json<DeviceCredentialsResponse>(rotated);
      assert.notEqual(fresh.credentials.password, device.credentials.password);

      const old = await asDevice(`/api/v1/models/${model.id}/artifact`, device);
      assert.equal(old.status, 401);
      assert.equal((await asDevice('/api/v1/devices/me', device)).status, 401);
      const renewed = await asDevice('/api/v1/devices/me', fresh);
      assert.equal(renewed.status, 200);
      assert.equal((await json(renewed)).device_id, 'cam-rotate');
    });

    it('refuses a deleted device at once, though it was just cached', async () => {
      const device = await createDevice(hub, 'cam-delete', 'yard');
      const download = await asDevice(`/api/v1/models/${model.id}/artifact`, device);
      assert.equal(download.status, 200);
      await download.arrayBuffer();
      assert.equal((await call('/api/v1/devices/cam-delete', { method: 'DELETE' })).status, 204);

      assert.deepEqual(await refusal(await asDevice('/api/v1/devices/me', device)), {
        status: 401,
        statusCode: 401,
        error: 'UNAUTHENTICATED',
        message: 'unknown device or wrong device secret',
      });
      assert.equal((await asDevice(`/api/v1/models/${model.id}/artifact`, device)).status, 401);
    });
  });
}
