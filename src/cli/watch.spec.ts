import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CliError, HubApiError } from './cli-errors.js';
import type { DeploymentStatus } from './deployment-status.js';
import type { DeploymentEvent, DeploymentHealth } from './hub-api.js';
import type { CliWritable } from './output.js';
import {
  LiveRegion,
  chooseView,
  fitWidth,
  followDeployment,
  jsonView,
  logView,
  requireSucceeded,
  terminalView,
  type WatchView,
} from './watch.js';

const ID = 'd0000000-0000-4000-8000-000000000001';
const UP = (rows: number) => `\r\u001b[${rows}A\u001b[J`;

function stream(tty: { columns?: number; rows?: number } | null = null) {
  const writes: string[] = [];
  const out: CliWritable & { writes: string[]; text: () => string } = {
    write: (chunk: string) => writes.push(chunk),
    writes,
    text: () => writes.join(''),
  };
  if (tty) Object.assign(out, { isTTY: true, ...tty });
  return out;
}

function event(id: number, type: string, to: string | null = null): DeploymentEvent {
  return {
    id: String(id),
    at: `2026-01-31T12:00:0${id}.000Z`,
    actor: 'hub',
    type,
    from_status: to ? 'in_progress' : null,
    to_status: to,
    device_id: null,
    reason: to ? `why ${id}` : null,
    figures: {},
  };
}

function health(
  verdict: DeploymentHealth['verdict'],
  overrides: Partial<DeploymentHealth> = {},
): DeploymentHealth {
  return {
    deployment_id: ID,
    verdict,
    evaluated_at: verdict === null ? null : '2026-01-31T12:30:00.000Z',
    checks: [],
    reasons: [],
    action: 'none',
    ...overrides,
  };
}

const NOT_EVALUATED = health(null);

function detail(
  status: DeploymentStatus['status'],
  events: DeploymentEvent[],
  phases: Record<string, number> = {},
  withHealth: Pick<DeploymentStatus, 'health' | 'health_unavailable'> = { health: NOT_EVALUATED },
): DeploymentStatus {
  return {
    id: ID,
    model: { id: 'm', name: 'det', version: '1.0.0' },
    environment: 'production',
    deployment_type: 'blue-green',
    target: 'yard',
    groups: [{ name: 'yard', previous_model_id: null }],
    status,
    status_reason: status === 'in_progress' ? null : `${status} because`,
    start_at: null,
    canary: null,
    rules: {},
    auto_rollback: true,
    staging_timeout_s: 600,
    device_timeout_s: 900,
    min_staged_share: 0.8,
    max_failure_share: 0.2,
    max_retries: 3,
    superseded_by: null,
    created_by: 'token:ci',
    created_at: '2026-01-31T12:00:00.000Z',
    updated_at: '2026-01-31T12:00:00.000Z',
    finished_at: null,
    progress: {
      targets: 2,
      online: 2,
      participating: 2,
      phases,
      failed_devices: [],
      skipped_devices: [],
    },
    events,
    ...withHealth,
  };
}

describe('LiveRegion (in-place redraw)', () => {
  it('moves up over the previous frame and erases it before drawing the next', () => {
    const out = stream({ columns: 40, rows: 20 });
    const region = new LiveRegion(out);
    region.render('a\nb\n');
    region.render('c\nd\ne\n');
    region.render('c\nd\ne\n'); // unchanged: nothing written
    region.render('f\n');
    region.finish('done\n');
    assert.deepEqual(out.writes, ['a\nb\n', `${UP(2)}c\nd\ne\n`, `${UP(3)}f\n`, `${UP(1)}done\n`]);
  });

  it('cuts lines to the terminal width and the frame to its height', () => {
    const out = stream({ columns: 10, rows: 4 });
    const region = new LiveRegion(out);
    region.render('0123456789abc\nshort\nthree\nfour\nfive\n');
    assert.equal(out.writes[0], '01234567…\nshort\n…\n');
    region.render('x\n');
    assert.equal(out.writes[1], `${UP(3)}x\n`);
  });

  it('takes a terminal of unknown size (0 x 0) as 80 columns without a height limit', () => {
    const out = stream({ columns: 0, rows: 0 });
    const region = new LiveRegion(out);
    const long = 'x'.repeat(100);
    region.render(`${long}\n2\n3\n4\n`);
    assert.equal(out.writes[0], `${'x'.repeat(78)}…\n2\n3\n4\n`);
  });

  it('leaves a final text uncut', () => {
    const out = stream({ columns: 10 });
    const region = new LiveRegion(out);
    region.finish('0123456789abcdef\n');
    assert.equal(out.text(), '0123456789abcdef\n');
  });

  it('cuts by characters, not UTF-16 units', () => {
    assert.equal(fitWidth('abc', 3), 'abc');
    assert.equal(fitWidth('abcd', 3), 'ab…');
    assert.equal(fitWidth('😀😀😀😀', 3), '😀😀…');
  });
});

describe('watch views', () => {
  it('chooses the view from --json and whether stdout is a terminal', () => {
    const json = stream({ columns: 80 });
    chooseView(json, { json: true, intervalMs: 1000 }).finish(detail('succeeded', []));
    assert.equal(JSON.parse(json.text()).status, 'succeeded');

    const tty = stream({ columns: 80 });
    chooseView(tty, { json: false, intervalMs: 1000 }).update(detail('in_progress', []));
    assert.match(tty.text(), /^deployment d0000000.*\n {2}model/);

    const pipe = stream();
    chooseView(pipe, { json: false, intervalMs: 1000 }).update(detail('in_progress', []));
    assert.match(
      pipe.text(),
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}health not evaluated yet\n\S+ \S+Z {2}in_progress \| /,
    );
  });

  it('appends a line per change and per new event when not on a terminal', () => {
    const out = stream();
    const view = logView(out, () => new Date('2026-01-31T13:00:00Z'));
    const created = event(1, 'created', 'in_progress');
    view.update(detail('in_progress', [created], { downloading: 2 }));
    view.update(detail('in_progress', [created], { downloading: 2 })); // no change, no line
    view.update(detail('in_progress', [created], { downloading: 1, staged: 1 }));
    const cutover = event(2, 'cutover');
    view.update(detail('in_progress', [created, cutover], { downloading: 1, staged: 1 }));
    view.finish(detail('failed', [created, cutover, event(3, 'failed', 'failed')], { failed: 2 }));
    assert.equal(
      out.text(),
      [
        '2026-01-31 13:00:00Z  health not evaluated yet',
        '2026-01-31 13:00:00Z  in_progress | 2 targets, 2 online, 2 participating | downloading 2',
        '2026-01-31 13:00:00Z  in_progress | 2 targets, 2 online, 2 participating | downloading 1, staged 1',
        'event 2026-01-31 12:00:02Z  cutover by hub',
        'event 2026-01-31 12:00:03Z  failed (in_progress -> failed) by hub: why 3',
        '2026-01-31 13:00:00Z  failed | 2 targets, 2 online, 2 participating | failed 2 | failed because',
        '',
      ].join('\n'),
    );
  });

  it('logs the health verdict when it changes, not each evaluation', () => {
    const out = stream();
    const view = logView(out, () => new Date('2026-01-31T13:00:00Z'));
    const poll = (withHealth: Pick<DeploymentStatus, 'health' | 'health_unavailable'>) =>
      view.update(detail('in_progress', [], { active: 2 }, withHealth));
    poll({ health: NOT_EVALUATED });
    poll({ health: NOT_EVALUATED });
    const few = (n: number) =>
      `new version: 1 devices and ${n} samples in the window; need 1 and 3`;
    poll({ health: health('inconclusive', { reasons: [few(1)] }) });
    // the same verdict with other figures: no line
    poll({ health: health('inconclusive', { reasons: [few(2)] }) });
    poll({ health: null, health_unavailable: 'cannot reach hub at http://hub: ECONNRESET' });
    poll({ health: health('healthy') });
    poll({ health: health('healthy', { evaluated_at: '2026-01-31T12:31:00.000Z' }) });
    poll({
      health: health('degraded', {
        action: 'rolled_back',
        reasons: ['fps 15 fps vs 30 fps (-50 %, limit -20 %)', 'memory\nup'],
      }),
    });
    const lines = out.text().trimEnd().split('\n');
    assert.match(lines.splice(1, 1)[0], /^2026-01-31 13:00:00Z {2}in_progress \| /);
    assert.deepEqual(lines, [
      '2026-01-31 13:00:00Z  health not evaluated yet',
      `2026-01-31 13:00:00Z  health inconclusive: ${few(1)}`,
      '2026-01-31 13:00:00Z  health unavailable (cannot reach hub at http://hub: ECONNRESET)',
      '2026-01-31 13:00:00Z  health healthy',
      '2026-01-31 13:00:00Z  health degraded, action rolled_back: fps 15 fps vs 30 fps (-50 %, limit -20 %); memory up',
    ]);
  });

  it('redraws the status view on a terminal and leaves the final one in full', () => {
    const out = stream({ columns: 200, rows: 50 });
    const view = terminalView(out, 500, () => new Date('2026-01-31T13:00:00Z'));
    view.update(detail('in_progress', []));
    const first = out.writes[0];
    assert.match(first, /\n {2}status {7}in_progress\n/);
    assert.match(first, /\nhealth: not evaluated yet\n/);
    assert.match(first, /\nupdated 2026-01-31 13:00:00Z, every 0\.5 s; Ctrl-C stops watching/);
    const rows = first.split('\n').length - 1;
    view.finish(detail('succeeded', []));
    assert.ok(out.writes[1].startsWith(UP(rows)));
    assert.match(out.writes[1], /\n {2}status {7}succeeded\n/);
    assert.doesNotMatch(out.writes[1], /updated/);
  });

  it('--json prints only the final deployment', () => {
    const out = stream();
    const view = jsonView(out);
    view.update(detail('in_progress', []));
    assert.equal(out.text(), '');
    view.finish(detail('rolled_back', [], {}, { health: health('degraded') }));
    const final = JSON.parse(out.text()) as DeploymentStatus;
    assert.equal(final.status, 'rolled_back');
    assert.equal(final.health?.verdict, 'degraded');
  });
});

describe('followDeployment', () => {
  function recorder() {
    const seen: string[] = [];
    const view: WatchView = {
      update: (d) => seen.push(`update ${d.status}`),
      finish: (d) => seen.push(`finish ${d.status}`),
    };
    return { seen, view };
  }

  it('polls the deployment and its health until it ends, sleeping the interval between polls', async () => {
    const answers: DeploymentStatus['status'][] = [
      'staging',
      'staging',
      'in_progress',
      'paused',
      'succeeded',
      'pending', // never asked for
    ];
    const verdicts: DeploymentHealth['verdict'][] = [
      null,
      null,
      'inconclusive',
      'healthy',
      'healthy',
    ];
    const sleeps: number[] = [];
    const requests: string[] = [];
    const seen: string[] = [];
    const view: WatchView = {
      update: (d) => seen.push(`update ${d.status} ${d.health?.verdict}`),
      finish: (d) => seen.push(`finish ${d.status} ${d.health?.verdict}`),
    };
    const final = await followDeployment(
      {
        getDeployment: async (id) => {
          assert.equal(id, ID);
          requests.push('deployment');
          return detail(answers.shift()!, []);
        },
        getDeploymentHealth: async (id) => {
          assert.equal(id, ID);
          requests.push('health');
          return health(verdicts.shift()!);
        },
      },
      ID,
      view,
      { intervalMs: 250, sleep: async (ms) => void sleeps.push(ms) },
    );
    assert.equal(final.status, 'succeeded');
    assert.equal(final.health?.verdict, 'healthy');
    assert.deepEqual(seen, [
      'update staging null',
      'update staging null',
      'update in_progress inconclusive',
      'update paused healthy',
      'finish succeeded healthy',
    ]);
    // one health request after each deployment request
    assert.deepEqual(requests, Array.from({ length: 5 }, () => ['deployment', 'health']).flat());
    assert.deepEqual(sleeps, [250, 250, 250, 250]);
  });

  it('keeps watching when the health request fails, showing why', async () => {
    const answers: DeploymentStatus['status'][] = [
      'in_progress',
      'in_progress',
      'in_progress',
      'succeeded',
    ];
    const failures: unknown[] = [
      new HubApiError('Cannot GET /api/v1/deployments/x/health', 404, 'NOT_FOUND'),
      new HubApiError('internal error; see the hub log', 500, 'INTERNAL'),
      { verdict: 'healthy' }, // not the shape of a health answer
    ];
    const shown: DeploymentStatus[] = [];
    const view: WatchView = { update: (d) => shown.push(d), finish: (d) => shown.push(d) };
    await followDeployment(
      {
        getDeployment: async () => detail(answers.shift()!, []),
        getDeploymentHealth: async () => {
          const next = failures.shift();
          if (next instanceof Error) throw next;
          return (next ?? health('healthy')) as DeploymentHealth;
        },
      },
      ID,
      view,
      { intervalMs: 1, sleep: async () => {} },
    );
    assert.deepEqual(
      shown.map((d) => [d.status, d.health?.verdict ?? null, d.health_unavailable]),
      [
        ['in_progress', null, 'this hub has no health endpoint (HTTP 404 NOT_FOUND)'],
        ['in_progress', null, 'internal error; see the hub log (HTTP 500 INTERNAL)'],
        ['in_progress', null, 'unexpected health response: checks'],
        ['succeeded', 'healthy', undefined],
      ],
    );
  });

  it('ends on every final status, and stops on the first failed deployment request', async () => {
    const client = (status: DeploymentStatus['status']) => ({
      getDeployment: async () => detail(status, []),
      getDeploymentHealth: async () => NOT_EVALUATED,
    });
    for (const status of ['failed', 'rolled_back', 'superseded'] as const) {
      const { seen, view } = recorder();
      await followDeployment(client(status), ID, view, { intervalMs: 1 });
      assert.deepEqual(seen, [`finish ${status}`]);
    }
    const boom = new CliError('cannot reach hub', 3);
    let healthRequests = 0;
    await assert.rejects(
      followDeployment(
        {
          getDeployment: async () => {
            throw boom;
          },
          getDeploymentHealth: async () => {
            healthRequests += 1;
            return NOT_EVALUATED;
          },
        },
        ID,
        recorder().view,
        { intervalMs: 1 },
      ),
      (err) => err === boom,
    );
    assert.equal(healthRequests, 0);
  });

  it('turns anything but success into exit 1 with the status and reason', () => {
    assert.doesNotThrow(() => requireSucceeded(detail('succeeded', [])));
    assert.throws(
      () => requireSucceeded(detail('rolled_back', [])),
      (err: unknown) =>
        err instanceof CliError &&
        err.exitCode === 1 &&
        err.message === `deployment ${ID} rolled_back: rolled_back because`,
    );
    const noReason = { ...detail('failed', []), status_reason: null };
    assert.throws(() => requireSucceeded(noReason), /failed: no reason given$/);
  });
});
