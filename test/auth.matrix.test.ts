import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDevice, createGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';

/**
 * The least role each route needs ('device': device credentials only, no token). Routes are read
 * from the live OpenAPI document, so a new route without a row here fails the test instead of
 * slipping through unchecked.
 */
const REQUIRED: Record<string, 'viewer' | 'operator' | 'admin' | 'public' | 'device'> = {
  'POST /api/v1/models': 'operator',
  'GET /api/v1/models': 'viewer',
  'GET /api/v1/models/{id}': 'viewer',
  'PATCH /api/v1/models/{id}': 'operator',
  'DELETE /api/v1/models/{id}': 'admin',
  'GET /api/v1/models/{id}/lineage': 'viewer',
  'GET /api/v1/models/{id}/artifact': 'viewer',
  'POST /api/v1/tokens': 'admin',
  'GET /api/v1/tokens': 'admin',
  'DELETE /api/v1/tokens/{id}': 'admin',
  'GET /api/v1/whoami': 'viewer',
  'GET /api/v1/telemetry': 'viewer',
  'GET /api/v1/events': 'viewer',
  'POST /api/v1/groups': 'operator',
  'GET /api/v1/groups': 'viewer',
  'GET /api/v1/groups/{name}': 'viewer',
  'DELETE /api/v1/groups/{name}': 'admin',
  'POST /api/v1/devices': 'operator',
  'GET /api/v1/devices': 'viewer',
  'GET /api/v1/devices/me': 'device',
  'GET /api/v1/devices/{id}': 'viewer',
  'PATCH /api/v1/devices/{id}': 'operator',
  'POST /api/v1/devices/{id}/rotate-credentials': 'operator',
  'DELETE /api/v1/devices/{id}': 'operator',
  'GET /api/v1/broker/mosquitto-passwd': 'admin',
  'GET /api/v1/broker/mosquitto-acl': 'admin',
  'GET /api/v1/groups/{name}/desired': 'viewer',
  'PUT /api/v1/groups/{name}/desired': 'operator',
  'GET /api/v1/devices/{id}/desired': 'viewer',
  'PUT /api/v1/devices/{id}/desired': 'operator',
  'DELETE /api/v1/devices/{id}/desired': 'operator',
  'POST /api/v1/deployments': 'operator',
  'GET /api/v1/deployments': 'viewer',
  'GET /api/v1/deployments/{id}': 'viewer',
  'GET /api/v1/deployments/{id}/health': 'viewer',
  'GET /api/v1/deployments/{id}/health/history': 'viewer',
  'POST /api/v1/deployments/{id}/rollback': 'operator',
  'POST /api/v1/deployments/{id}/pause': 'operator',
  'POST /api/v1/deployments/{id}/resume': 'operator',
  'POST /api/v1/deployments/{id}/promote': 'operator',
  'GET /health': 'public',
  'GET /metrics': 'public',
};

/**
 * Routes that take a device credential (HTTP Basic: device id and secret) besides tokens with
 * their role. A device credential must work exactly here and on the 'device' routes above, and be
 * refused with 401 everywhere else.
 */
const DEVICE_ACCESS = new Set(['GET /api/v1/models/{id}/artifact']);

const ROLES = ['viewer', 'operator', 'admin'] as const;
const RANK = { viewer: 0, operator: 1, admin: 2 };
const MISSING_ID = '00000000-0000-4000-8000-000000000000';

describe('role x route matrix', () => {
  let hub: InProcessHub;
  const tokens: Record<string, string> = {};
  let routes: string[] = [];
  let security: Record<string, string[]> = {};
  let device = '';

  before(async () => {
    hub = await startHub();
    await createGroup(hub, 'matrix');
    const created = await createDevice(hub, 'matrix-cam', 'matrix');
    device = Buffer.from(`${created.id}:${created.credentials.password}`).toString('base64');
    for (const role of ROLES) {
      const response = await api(hub)('/api/v1/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `matrix-${role}`, role }),
      });
      assert.equal(response.status, 201);
      tokens[role] = ((await response.json()) as { token: string }).token;
    }
    const document = (await (await fetch(`${hub.url}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
    };
    routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    security = Object.fromEntries(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.entries(operations).map(([method, operation]) => [
          `${method.toUpperCase()} ${path}`,
          (operation.security ?? []).flatMap((scheme) => Object.keys(scheme)).sort(),
        ]),
      ),
    );
  });
  after(() => hub?.stop());
  const basicWrongSecret = `Basic ${Buffer.from('matrix-cam:wrong-secret').toString('base64')}`;

  it('has an expected role for every documented route', () => {
    assert.deepEqual(
      routes.filter((route) => !(route in REQUIRED)),
      [],
    );
    assert.deepEqual(
      Object.keys(REQUIRED).filter((route) => !routes.includes(route)),
      [],
    );
    assert.deepEqual(
      [...DEVICE_ACCESS].filter((route) => !(REQUIRED[route] in RANK)),
      [],
      'DEVICE_ACCESS lists routes that tokens may call too',
    );
  });

  it('documents the security each route takes: bearer, the device credential, or both', () => {
    const failures: string[] = [];
    for (const route of routes) {
      const required = REQUIRED[route];
      const expected =
        required === 'public'
          ? []
          : required === 'device'
            ? ['device']
            : DEVICE_ACCESS.has(route)
              ? ['bearer', 'device']
              : ['bearer'];
      if (JSON.stringify(security[route]) !== JSON.stringify(expected))
        failures.push(`${route}: ${JSON.stringify(security[route])}, expected ${expected}`);
    }
    assert.deepEqual(failures, []);
  });

  it('answers 401 without credentials or with bad ones, 403 for a role that may not, takes a device credential exactly where it is marked, and lets the rest through', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      const [method, template] = route.split(' ');
      const path = template.replace('{id}', MISSING_ID).replace('{name}', 'no-such-group');
      const required = REQUIRED[route];
      const send = (authorization?: string) =>
        fetch(hub.url + path, {
          method,
          headers: {
            ...(authorization ? { authorization } : {}),
            ...(method === 'POST' || method === 'PATCH'
              ? { 'content-type': 'application/json' }
              : {}),
          },
          body: method === 'POST' || method === 'PATCH' ? '{}' : undefined,
        });
      const expect = async (
        who: string,
        authorization: string | undefined,
        allowed: boolean,
        denial: number,
      ) => {
        const response = await send(authorization);
        const { status } = response;
        // Unread: GET /api/v1/events would stay open.
        await response.body?.cancel();
        const ok = allowed ? status !== 401 && status !== 403 : status === denial;
        if (!ok)
          failures.push(
            `${route} as ${who}: got ${status}, expected ${allowed ? 'not 401/403' : denial}`,
          );
      };
      if (required === 'public') {
        await expect('anonymous', undefined, true, 0);
        continue;
      }
      await expect('anonymous', undefined, false, 401);
      await expect('bad token', 'Bearer stl_not-a-real-token', false, 401);
      for (const role of ROLES) {
        const allowed = required !== 'device' && RANK[role] >= RANK[required];
        await expect(role, `Bearer ${tokens[role]}`, allowed, 403);
      }
      const forDevices = required === 'device' || DEVICE_ACCESS.has(route);
      await expect('device', `Basic ${device}`, forDevices, 401);
      await expect('device with a wrong secret', basicWrongSecret, false, 401);
    }
    assert.deepEqual(failures, []);
  });

  it('tells a device where its credential is accepted', async () => {
    const response = await fetch(`${hub.url}/api/v1/models`, {
      headers: { authorization: `Basic ${device}` },
    });
    assert.deepEqual(await response.json(), {
      statusCode: 401,
      error: 'UNAUTHENTICATED',
      message:
        'device credentials are only accepted for artifact downloads and /devices/me; this call needs a bearer token',
    });
  });

  it('tells a token who it is: id, name and role; null id for ADMIN_TOKEN', async () => {
    const listed = (await (await api(hub)('/api/v1/tokens')).json()) as {
      id: string;
      name: string;
    }[];
    for (const role of ROLES) {
      const response = await fetch(`${hub.url}/api/v1/whoami`, {
        headers: { authorization: `Bearer ${tokens[role]}` },
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), {
        token_id: listed.find((t) => t.name === `matrix-${role}`)!.id,
        name: `matrix-${role}`,
        role,
      });
    }
    assert.deepEqual(await (await api(hub)('/api/v1/whoami')).json(), {
      token_id: null,
      name: 'bootstrap-admin',
      role: 'admin',
    });
  });

  it('explains the refusal', async () => {
    const response = await fetch(`${hub.url}/api/v1/tokens`, {
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    assert.deepEqual(await response.json(), {
      statusCode: 403,
      error: 'FORBIDDEN',
      message: 'this call needs the admin role; the token has viewer',
    });
  });

  it('stores tokens hashed and never lists their secrets; a deleted token stops working', async () => {
    const listed = (await (await api(hub)('/api/v1/tokens')).json()) as Record<string, unknown>[];
    const text = JSON.stringify(listed);
    for (const secret of Object.values(tokens)) assert.ok(!text.includes(secret));
    const viewer = listed.find((token) => token.name === 'matrix-viewer')!;
    assert.equal((await api(hub)(`/api/v1/tokens/${viewer.id}`, { method: 'DELETE' })).status, 204);
    const after = await fetch(`${hub.url}/api/v1/models`, {
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    assert.equal(after.status, 401);
  });

  it('refuses to delete the last admin token', async () => {
    const listed = (await (await api(hub)('/api/v1/tokens')).json()) as {
      id: string;
      role: string;
      name: string;
    }[];
    for (const token of listed.filter((t) => t.role === 'admin' && t.name !== 'bootstrap-admin')) {
      assert.equal(
        (await api(hub)(`/api/v1/tokens/${token.id}`, { method: 'DELETE' })).status,
        204,
      );
    }
    const last = listed.find((t) => t.name === 'bootstrap-admin')!;
    const response = await api(hub)(`/api/v1/tokens/${last.id}`, { method: 'DELETE' });
    assert.equal(response.status, 409);
  });

  it('validates token requests', async () => {
    const response = await api(hub)('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', role: 'root' }),
    });
    assert.equal(response.status, 400);
    assert.match(
      ((await response.json()) as { message: string }).message,
      /role must be one of admin, operator, viewer/,
    );
  });
});
