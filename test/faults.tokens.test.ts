// Concurrent deletes of admin tokens: each used to check "not the last admin" on its own and all
// could pass, leaving no admin at all (even ADMIN_TOKEN then failed until a restart).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';

const ENGINES = [
  { name: 'PGlite (embedded)', skip: false as const, database: async () => null },
  { name: 'PostgreSQL', skip: skipWithoutPostgres, database: () => createTestDatabase() },
];

type Token = { id: string; name: string; role: string; token: string };

for (const engine of ENGINES) {
  describe(`admin tokens under concurrent deletes on ${engine.name}`, { skip: engine.skip }, () => {
    let hub: InProcessHub;
    let database: TestDatabase | null;

    before(async () => {
      database = await engine.database();
      hub = await startHub(database ? { DATABASE_URL: database.url } : {});
    });
    after(async () => {
      await hub?.stop();
      await database?.drop();
    });

    const createAdmin = async (name: string, as: string): Promise<Token> => {
      const response = await api(hub, as)('/api/v1/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, role: 'admin' }),
      });
      assert.equal(response.status, 201);
      return (await response.json()) as Token;
    };

    it('keeps the row of the configured ADMIN_TOKEN', async () => {
      const listed = (await (await api(hub)('/api/v1/tokens')).json()) as Token[];
      const bootstrap = listed.find((t) => t.name === 'bootstrap-admin')!;
      const response = await api(hub)(`/api/v1/tokens/${bootstrap.id}`, { method: 'DELETE' });
      assert.equal(response.status, 409);
      assert.match(((await response.json()) as { message: string }).message, /ADMIN_TOKEN/);
      assert.equal((await api(hub)('/api/v1/tokens')).status, 200);
    });

    it('never leaves no admin when every admin token is deleted at once', async () => {
      const first = await createAdmin('race-first', hub.adminToken);
      const secrets = new Map([[first.id, first.token]]);
      let creator = first.token;
      let refusedByLock = 0;
      // Without the ADMIN_TOKEN row (a hub started without the variable), only the lock protects.
      await hub.app
        .get(DataSource)
        .query("DELETE FROM api_tokens WHERE created_by = 'ADMIN_TOKEN'");
      for (let round = 0; round < 5; round++) {
        const admins = await Promise.all(
          ['a', 'b', 'c', 'd'].map((n) => createAdmin(`race-${round}-${n}`, creator)),
        );
        for (const a of admins) secrets.set(a.id, a.token);
        const existing = (await (await api(hub, creator)('/api/v1/tokens')).json()) as Token[];
        const targets = existing.filter((t) => t.role === 'admin');
        const statuses = await Promise.all(
          targets.map((t, i) =>
            api(hub, admins[i % admins.length].token)(`/api/v1/tokens/${t.id}`, {
              method: 'DELETE',
            }).then((r) => r.status),
          ),
        );
        const left: { id: string }[] = await hub.app
          .get(DataSource)
          .query("SELECT id FROM api_tokens WHERE role = 'admin'");
        const why = `round ${round}: ${statuses.join(',')}`;
        assert.ok(
          statuses.every((s) => s === 204 || s === 401 || s === 409),
          why,
        );
        // Never no admin. A request whose own token another request deleted first is refused as
        // unauthenticated (401) before it reaches the lock, and its target stays; every other
        // request meets the lock, which refuses only the last admin.
        assert.ok(left.length >= 1, why);
        assert.equal(statuses.filter((s) => s === 204).length, targets.length - left.length, why);
        if (!statuses.includes(401)) {
          assert.equal(left.length, 1, why);
          assert.ok(statuses.includes(409), why);
        }
        refusedByLock += statuses.filter((s) => s === 409).length;
        // The next round creates its admins with the survivor.
        creator = secrets.get(left[0].id)!;
      }
      assert.ok(refusedByLock > 0, 'the lock refused the last admin in at least one round');
    });
  });
}
