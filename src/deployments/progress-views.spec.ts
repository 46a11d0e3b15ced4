import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceView } from './domain/rollout-types.js';
import { ProgressViews, type ProgressChange } from './progress-views.js';

const view = (id: string, phase: DeviceView['phase'] = null, online = true): DeviceView => ({
  id,
  online,
  phase,
  reason: null,
  phaseSince: null,
  attempts: 0,
});

/** A database stand-in: the rows a full read returns, and how many reads were made. */
function table(rows: DeviceView[]) {
  const db = { rows, reads: 0, read: async () => (db.reads++, db.rows.map((r) => ({ ...r }))) };
  return db;
}

const change = (deviceId: string, phase: ProgressChange['phase']): ProgressChange => ({
  deploymentId: 'dep',
  deviceId,
  phase,
  reason: null,
  phaseSince: new Date(0),
});

const phases = (views: DeviceView[]) => Object.fromEntries(views.map((v) => [v.id, v.phase]));

describe('ProgressViews: the devices an evaluation sees, followed from the writes', () => {
  it('reads in full once, then follows progress and online changes without reading', async () => {
    const db = table([view('a'), view('b')]);
    const views = new ProgressViews(true, 10_000);
    await views.get('dep', db.read, 0);
    views.applyProgress([change('a', 'staged')]);
    views.applyOnline([{ deviceId: 'b', online: false }]);
    const now = await views.get('dep', db.read, 1_000);
    assert.equal(db.reads, 1);
    assert.deepEqual(phases(now), { a: 'staged', b: null });
    assert.equal(now.find((v) => v.id === 'b')!.online, false);
  });

  it('reads in full again when due, after invalidate, and for a device it does not hold', async () => {
    const db = table([view('a')]);
    const views = new ProgressViews(true, 10_000);
    await views.get('dep', db.read, 0);
    await views.get('dep', db.read, 10_000);
    assert.equal(db.reads, 2, 'due after fullEveryMs');
    views.invalidate('dep');
    await views.get('dep', db.read, 10_001);
    assert.equal(db.reads, 3, 'invalidated');
    db.rows = [view('a'), view('new', 'notified')];
    views.applyProgress([change('new', 'notified')]);
    const now = await views.get('dep', db.read, 10_002);
    assert.equal(db.reads, 4, 'a device joined the targets');
    assert.deepEqual(phases(now), { a: null, new: 'notified' });
  });

  it('a skipped device leaves the views', async () => {
    const db = table([view('a'), view('b')]);
    const views = new ProgressViews(true, 10_000);
    await views.get('dep', db.read, 0);
    views.applyProgress([change('b', 'skipped')]);
    assert.deepEqual(phases(await views.get('dep', db.read, 1)), { a: null });
    assert.equal(db.reads, 1);
  });

  it('a change written while a full read runs is applied to what the read returns', async () => {
    const views = new ProgressViews(true, 10_000);
    let release!: () => void;
    const read = () =>
      new Promise<DeviceView[]>((resolve) => {
        release = () => resolve([view('a', 'notified')]); // read before the write committed
      });
    const pending = views.get('dep', read, 0);
    views.applyProgress([change('a', 'active')]);
    release();
    assert.deepEqual(phases(await pending), { a: 'active' });
  });

  it('without following (several hubs write), reads in full every time and never skips', async () => {
    const db = table([view('a')]);
    const views = new ProgressViews(false, 10_000);
    await views.get('dep', db.read, 0);
    await views.get('dep', db.read, 1);
    assert.equal(db.reads, 2);
    views.wrote('dep', 'a', 'sig');
    assert.equal(views.repeats('dep', 'a', 'sig'), false);
  });

  it('a report that repeats what was written is skipped until its device is invalidated', () => {
    const views = new ProgressViews(true, 10_000);
    views.wrote('dep', 'a', 'sig-1');
    views.wrote('dep', 'b', 'sig-1');
    assert.equal(views.repeats('dep', 'a', 'sig-1'), true);
    assert.equal(views.repeats('dep', 'a', 'sig-2'), false);
    views.invalidate('dep', ['a']); // a timeout wrote its row
    assert.equal(views.repeats('dep', 'a', 'sig-1'), false);
    assert.equal(views.repeats('dep', 'b', 'sig-1'), true);
    views.retain(new Set(), new Set());
    assert.equal(views.repeats('dep', 'b', 'sig-1'), false);
  });
});
