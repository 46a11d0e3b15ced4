import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createDevice, createGroup, pinGroup } from '../../test/support/fleet.js';
import { api, startHub, type InProcessHub } from '../../test/support/hub.js';
import { fastModel } from '../../test/support/onnx-models.js';
import { json, pushModel } from '../../test/support/push.js';
import type { DeploymentStatus } from './deployment-status.js';
import type { Deployment, DeploymentDetail, DeploymentHealth, DeploymentPage } from './hub-api.js';
import { run, type CliIo } from './run.js';

interface Captured {
  io: CliIo;
  stdout: () => string;
  stderr: () => string;
}

function capture(env: CliIo['env']): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
      env,
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

/** Waits for a condition another task makes true (no time limit of its own: the test's applies). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await delay(20);
}

/** Like `until`, for a condition that has to ask the hub. */
async function eventually(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await delay(50);
}

/**
 * A hub in front of the hub: passes every request through, except the health endpoint, which
 * answers as `health` says (a hub from before the rules module answers 404 "Cannot GET ...").
 */
async function healthlessProxy(
  target: string,
  health: { status: number; body: string },
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (/\/api\/v1\/deployments\/[^/]+\/health$/.test(req.url ?? '')) {
      res.writeHead(health.status, { 'content-type': 'application/json' });
      res.end(health.body);
      return;
    }
    const upstream = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A health line of `--watch` without a terminal. */
const HEALTH_LOG_LINE = /^\S+ \S+Z {2}health /;

const DEPLOYMENT_LINE = /^deployment ([0-9a-f-]{36}) (\w+)/;

describe(
  'sentinel deployment commands (in process, against a real hub)',
  { timeout: 60_000 },
  () => {
    let hub: InProcessHub;
    let v1: string;
    let v2: string;

    /** The CLI in this process, as the admin unless `env` says otherwise. */
    async function sentinel(argv: string[], env: CliIo['env'] = {}) {
      const out = capture({ SENTINEL_URL: hub.url, SENTINEL_TOKEN: hub.adminToken, ...env });
      const code = await run(argv, out.io);
      return { code, stdout: out.stdout(), stderr: out.stderr() };
    }

    async function deploymentCount(): Promise<number> {
      const response = await api(hub)('/api/v1/deployments?limit=1');
      return ((await response.json()) as DeploymentPage).total;
    }

    before(async () => {
      // a fast loop: deployments to groups without online devices end within a few evaluations,
      // and the rules evaluate deployments in progress every 0.2 s
      hub = await startHub({ ROLLOUT_INTERVAL_MS: '100', RULES_INTERVAL_S: '0.2' });
      for (const group of ['yard', 'dock', 'empty']) await createGroup(hub, group);
      await createGroup(hub, 'lab', 'lab');
      await createDevice(hub, 'cam-1', 'yard');
      await createDevice(hub, 'cam-2', 'yard');
      await createDevice(hub, 'cam-3', 'dock');
      await createDevice(hub, 'cam-4', 'lab');
      v1 = (
        await json<{ id: string }>(
          await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }),
        )
      ).id;
      v2 = (
        await json<{ id: string }>(
          await pushModel(hub, fastModel(), { name: 'det', version: '2.0.0' }),
        )
      ).id;
      // yard and dock run v1 before: something to roll back to
      await pinGroup(hub, 'yard', v1);
      await pinGroup(hub, 'dock', v1);
    });

    after(async () => {
      await hub?.stop();
    });

    it('deploys blue-green to a group and waits until it succeeded', async () => {
      const result = await sentinel([
        'model',
        'deploy',
        v2,
        '--environment',
        'production',
        '--deployment-type',
        'blue-green',
        '--target',
        'empty',
        '--staging-timeout',
        '60',
        '--min-staged-share',
        '0.5',
        '--wait',
        '--interval',
        '0.1',
      ]);
      // The hub warns that the rules cannot judge a group that ran nothing before.
      assert.equal(
        result.stderr,
        'warning: group empty ran no model before: no baseline to judge against nor to roll back to; the rules do not hold this deployment\n',
      );
      assert.equal(result.code, 0);
      const lines = result.stdout.trimEnd().split('\n');
      const [, id, status] = DEPLOYMENT_LINE.exec(lines[0]) ?? [];
      assert.equal(status, 'staging');
      // not a terminal: plain lines (the health among them), the last one the final status
      assert.match(
        lines.at(-1)!,
        /^\S+ \S+Z {2}succeeded \| 0 targets, 0 online, 0 participating \| /,
      );
      assert.equal(result.stdout.includes('\u001b'), false);

      const detail = JSON.parse(
        (await sentinel(['deployment', 'status', id, '--json'])).stdout,
      ) as DeploymentDetail;
      assert.equal(detail.status, 'succeeded');
      assert.equal(detail.deployment_type, 'blue-green');
      assert.equal(detail.staging_timeout_s, 60);
      assert.equal(detail.min_staged_share, 0.5);
    });

    let canary: string;
    it('deploys a canary and shows its status plain and as JSON', async () => {
      const created = await sentinel([
        'model',
        'deploy',
        v2,
        '--environment',
        'production',
        '--deployment-type',
        'canary',
        '--target',
        'yard',
        '--steps',
        '50,100',
        '--step-interval',
        '3600',
        '--max-failure-share',
        '0.3',
        '--no-auto-rollback',
        '--json',
      ]);
      assert.equal(created.code, 0, created.stderr);
      const body = JSON.parse(created.stdout) as Deployment;
      canary = body.id;
      assert.equal(body.status, 'in_progress');
      assert.deepEqual(body.canary?.steps, [50, 100]);
      assert.equal(body.canary?.step_interval_s, 3600);
      assert.equal(body.max_failure_share, 0.3);
      assert.equal(body.auto_rollback, false);
      assert.deepEqual(body.groups, [{ name: 'yard', previous_model_id: v1 }]);

      const plain = await sentinel(['deployment', 'status', canary]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, new RegExp(`^deployment ${canary}\n`));
      assert.match(plain.stdout, /\n {2}model {8}det@2\.0\.0 \(/);
      assert.match(plain.stdout, /\n {2}status {7}in_progress \(rolling out\)\n/);
      assert.match(
        plain.stdout,
        /\n {2}canary {7}step 1\/2 at 50 % \(steps 50, 100; 3600 s each\)\n/,
      );
      assert.match(plain.stdout, /\n {2}devices {6}2 targets, 0 online, \d participating\n/);
      assert.match(
        plain.stdout,
        /\n {2}phases {7}notified 0, downloading 0, verifying 0, staged 0\n/,
      );
      assert.match(
        plain.stdout,
        /\nevents \(1\):\n {2}\S+ \S+Z {2}created \(-> in_progress\) by token:/,
      );

      const asJson = await sentinel(['deployment', 'status', canary, '--json']);
      const detail = JSON.parse(asJson.stdout) as DeploymentDetail;
      assert.equal(detail.progress.targets, 2);
      assert.deepEqual(Object.keys(detail.progress.phases).sort(), [
        'active',
        'deferred',
        'downloading',
        'failed',
        'notified',
        'rolled_back',
        'staged',
        'unreported',
        'verifying',
      ]);
      assert.equal(detail.events[0].type, 'created');
    });

    it('shows the health of the canary, as the rules evaluate it', async () => {
      // No device is online and there is no telemetry: before the first evaluation the verdict is
      // null, after it inconclusive. Either way the block is there.
      const first = await sentinel(['deployment', 'status', canary]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stderr, '');
      assert.match(
        first.stdout,
        /\n {2}created {6}[^\n]+\nhealth: (not evaluated yet|inconclusive, evaluated \S+ \S+Z)\n/,
      );

      await eventually(async () => {
        const response = await api(hub)(`/api/v1/deployments/${canary}/health`);
        return ((await response.json()) as DeploymentHealth).verdict !== null;
      });
      const plain = await sentinel(['deployment', 'status', canary]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(
        plain.stdout,
        new RegExp(
          [
            '\nhealth: inconclusive, evaluated \\S+ \\S+Z',
            ' {2}new {7}2\\.0\\.0: no telemetry in the window',
            ' {2}baseline {2}1\\.0\\.0: no telemetry in the window \\(the same devices before the step\\)',
            ' {2}judged {4}rolling out, step 0',
            ' {2}METRIC +NEW +BASELINE +CHANGE +LIMIT +P +SAMPLES +STATUS',
            ' {2}fps +- +- +- +-10 % & 0\\.5 fps +- +- +no_data',
            ' {2}latency_p95 +- +- +- +\\+20 % & 0\\.5 ms +- +- +no_data',
            '',
          ].join('\n'),
        ),
      );
      assert.match(
        plain.stdout,
        /\n {2}reason: new version: 0 devices, 0 windows in the window; need 1 device\(s\) and 5 windows\n/,
      );

      const asJson = await sentinel(['deployment', 'status', canary, '--json']);
      assert.equal(asJson.code, 0, asJson.stderr);
      const status = JSON.parse(asJson.stdout) as DeploymentStatus;
      assert.equal(status.id, canary);
      assert.equal(status.health?.deployment_id, canary);
      assert.equal(status.health?.verdict, 'inconclusive');
      assert.equal(status.health?.action, 'none');
      assert.equal(status.health?.new_version, '2.0.0');
      assert.deepEqual(status.health?.baseline_versions, ['1.0.0']);
      assert.ok(status.health?.checks.some((c) => c.metric === 'fps' && c.status === 'no_data'));
      assert.equal('health_unavailable' in status, false);
    });

    it('refuses a second active deployment on the group with the 409 line', async () => {
      const result = await sentinel([
        'model',
        'deploy',
        v1,
        '--environment',
        'production',
        '--deployment-type',
        'blue-green',
        '--target',
        'yard',
      ]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.match(
        result.stderr,
        new RegExp(
          `^sentinel: group yard already has an active deployment \\(${canary}, in_progress\\).* \\(HTTP 409 CONFLICT\\)\n$`,
        ),
      );
    });

    it('pauses, resumes and promotes', async () => {
      const paused = await sentinel(['deployment', 'pause', canary, '--reason', 'night']);
      assert.equal(paused.code, 0, paused.stderr);
      assert.equal(paused.stdout, `deployment ${canary} paused, canary step 1/2 at 50 %\n`);
      const again = await sentinel(['deployment', 'pause', canary]);
      assert.equal(again.code, 1);
      assert.equal(
        again.stderr,
        `sentinel: cannot pause deployment ${canary}: it is paused (HTTP 409 CONFLICT)\n`,
      );
      const resumed = await sentinel(['deployment', 'resume', canary, '--json']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal((JSON.parse(resumed.stdout) as Deployment).status, 'in_progress');
      const promoted = await sentinel(['deployment', 'promote', canary]);
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(
        promoted.stdout,
        new RegExp(`^deployment ${canary} \\w+, canary step 2/2 at 100 %\n$`),
      );
      const status = await sentinel(['deployment', 'status', canary]);
      assert.match(status.stdout, /paused \(in_progress -> paused\) by token:\S+: night\n/);
      assert.match(status.stdout, /promoted to 100 % by token:/);
    });

    it('rolls back once: a second rollback is exit 1 with the 409 line', async () => {
      const first = await sentinel(['model', 'rollback', canary, '--reason', 'fps dropped']);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, `deployment ${canary} rolled_back, canary step 2/2 at 100 %\n`);
      const second = await sentinel(['deployment', 'rollback', canary]);
      assert.equal(second.code, 1);
      assert.equal(second.stdout, '');
      assert.equal(
        second.stderr,
        `sentinel: cannot rollback deployment ${canary}: it is rolled_back already (HTTP 409 CONFLICT)\n`,
      );
      const status = await sentinel(['deployment', 'status', canary]);
      assert.match(status.stdout, /\n {2}status {7}rolled_back\n {2}reason {7}fps dropped\n/);
    });

    it('shows "health: unavailable" from a hub without the endpoint or a failing one, and goes on', async () => {
      const cases = [
        {
          status: 404,
          body: JSON.stringify({
            statusCode: 404,
            error: 'NOT_FOUND',
            message: `Cannot GET /api/v1/deployments/${canary}/health`,
          }),
          reason: 'this hub has no health endpoint (HTTP 404 NOT_FOUND)',
        },
        {
          status: 500,
          body: JSON.stringify({
            statusCode: 500,
            error: 'INTERNAL',
            message: 'internal error; see the hub log',
          }),
          reason: 'internal error; see the hub log (HTTP 500 INTERNAL)',
        },
        {
          status: 200,
          body: '<html>',
          reason: 'hub returned a response that is not JSON (HTTP 200)',
        },
        { status: 200, body: '{"verdict":1}', reason: 'unexpected health response: verdict' },
      ];
      for (const { status, body, reason } of cases) {
        const proxy = await healthlessProxy(hub.url, { status, body });
        try {
          const env = { SENTINEL_URL: proxy.url };
          const plain = await sentinel(['deployment', 'status', canary], env);
          assert.equal(plain.code, 0, plain.stderr);
          assert.equal(plain.stderr, '');
          assert.match(plain.stdout, /\n {2}status {7}rolled_back\n/);
          assert.ok(plain.stdout.includes(`\nhealth: unavailable (${reason})\n`), plain.stdout);

          const asJson = await sentinel(['deployment', 'status', canary, '--json'], env);
          assert.equal(asJson.code, 0, asJson.stderr);
          const parsed = JSON.parse(asJson.stdout) as DeploymentStatus;
          assert.equal(parsed.status, 'rolled_back');
          assert.equal(parsed.health, null);
          assert.equal(parsed.health_unavailable, reason);

          // --watch of the ended deployment: its final view, exit 1 as it was rolled back
          const watch = await sentinel(['deployment', 'status', canary, '--watch'], env);
          assert.equal(watch.code, 1);
          assert.equal(watch.stderr, `sentinel: deployment ${canary} rolled_back: fps dropped\n`);
          const lines = watch.stdout.trimEnd().split('\n');
          assert.equal(lines[0].replace(HEALTH_LOG_LINE, ''), `unavailable (${reason})`);
          assert.match(lines[1], /^\S+ \S+Z {2}rolled_back \| /);
        } finally {
          await proxy.close();
        }
      }
      // An unknown deployment is still the command's error, not an unavailable health.
      const proxy = await healthlessProxy(hub.url, { status: 404, body: '{}' });
      try {
        const unknown = await sentinel(
          ['deployment', 'status', '00000000-0000-4000-8000-000000000000'],
          { SENTINEL_URL: proxy.url },
        );
        assert.equal(unknown.code, 1);
        assert.equal(unknown.stdout, '');
        assert.match(unknown.stderr, /\(HTTP 404 NOT_FOUND\)\n$/);
      } finally {
        await proxy.close();
      }
    });

    it('status --watch appends lines until the deployment is rolled back, then exits 1', async () => {
      const created = await sentinel([
        'model',
        'deploy',
        v2,
        '--environment',
        'production',
        '--deployment-type',
        'canary',
        '--target',
        'dock',
        '--step-interval',
        '3600',
      ]);
      assert.equal(created.code, 0, created.stderr);
      const [, id] = DEPLOYMENT_LINE.exec(created.stdout) ?? [];

      const watch = capture({ SENTINEL_URL: hub.url, SENTINEL_TOKEN: hub.adminToken });
      const watching = run(['deployment', 'status', id, '--watch', '--interval', '0.1'], watch.io);
      await until(() => watch.stdout() !== '');
      const rollback = await sentinel(['deployment', 'rollback', id, '--reason', 'watch test']);
      assert.equal(rollback.code, 0, rollback.stderr);

      assert.equal(await watching, 1);
      assert.equal(watch.stderr(), `sentinel: deployment ${id} rolled_back: watch test\n`);
      const all = watch.stdout().trimEnd().split('\n');
      // the health is logged on the first poll and again when its verdict changes
      assert.match(all[0], /^\S+ \S+Z {2}health (not evaluated yet|inconclusive: new version: )/);
      const health = all.filter((line) => HEALTH_LOG_LINE.test(line));
      assert.equal(new Set(health.map((line) => line.split('  ')[1])).size, health.length);
      const lines = all.filter((line) => !HEALTH_LOG_LINE.test(line));
      assert.match(
        lines[0],
        /^\S+ \S+Z {2}in_progress \| canary step 1\/3 at 5 % \| 1 targets, 0 online/,
      );
      assert.match(
        lines.at(-2)!,
        /^event \S+ \S+Z {2}rolled_back \(in_progress -> rolled_back\) by token:\S+: watch test$/,
      );
      assert.match(lines.at(-1)!, /^\S+ \S+Z {2}rolled_back \| .* \| watch test$/);
    });

    it('--supersede ends the active deployment, which a watch then reports', async () => {
      const deploy = (extra: string[]) =>
        sentinel([
          'model',
          'deploy',
          v2,
          '--environment',
          'production',
          '--deployment-type',
          'canary',
          '--target',
          'dock',
          '--step-interval',
          '3600',
          ...extra,
        ]);
      const first = DEPLOYMENT_LINE.exec((await deploy([])).stdout)?.[1];
      const second = await deploy(['--supersede']);
      assert.equal(second.code, 0, second.stderr);
      const secondId = DEPLOYMENT_LINE.exec(second.stdout)?.[1];

      const watch = await sentinel(['deployment', 'status', first!, '--watch', '--json']);
      assert.equal(watch.code, 1);
      assert.equal((JSON.parse(watch.stdout) as DeploymentDetail).superseded_by, secondId);
      assert.equal(
        watch.stderr,
        `sentinel: deployment ${first} superseded: superseded by deployment ${secondId}\n`,
      );
    });

    it('deploys a canary with --wait through its steps to success', async () => {
      const result = await sentinel([
        'model',
        'deploy',
        v2,
        '--environment',
        'lab',
        '--deployment-type',
        'canary',
        '--steps',
        '10,50,100',
        '--step-interval',
        '0',
        // Its cohort devices are offline: with rules on it would hold for a health verdict.
        '--rules',
        '{"enabled":false}',
        '--wait',
        '--interval',
        '0.1',
        '--json',
      ]);
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
      const final = JSON.parse(result.stdout) as DeploymentDetail;
      assert.equal(final.status, 'succeeded');
      assert.equal(final.target, 'all');
      assert.equal(final.canary?.percent, 100);
    });

    it('lists deployments with filters', async () => {
      const all = await sentinel(['deployment', 'list']);
      assert.equal(all.code, 0, all.stderr);
      const [header, ...rows] = all.stdout.trimEnd().split('\n');
      assert.match(header, /^ID +MODEL +TYPE +ENVIRONMENT +TARGET +STATUS +CREATED$/);
      assert.equal(rows.length, 6);
      assert.match(
        rows.at(-1)!,
        /^[0-9a-f-]{36} {2}det@2\.0\.0 {2}blue-green {2}production {3}empty +succeeded +\d{4}-/,
      );

      const yard = await sentinel(['deployment', 'list', '--group', 'yard', '--json']);
      const page = JSON.parse(yard.stdout) as DeploymentPage;
      assert.deepEqual(
        page.items.map((d) => d.id),
        [canary],
      );

      const rolledBack = await sentinel([
        'deployment',
        'list',
        '--status',
        'rolled_back',
        '--environment',
        'production',
        '--model-id',
        v2,
        '--limit',
        '1',
      ]);
      assert.equal(rolledBack.code, 0, rolledBack.stderr);
      assert.match(rolledBack.stdout, /rolled_back/);
      assert.match(rolledBack.stdout, /\n1-1 of 2\n$/);

      const none = await sentinel(['deployment', 'list', '--model-id', v1]);
      assert.equal(none.stdout, 'no deployments found\n');
    });

    it('exits 2 on bad arguments before sending anything', async () => {
      const before = await deploymentCount();
      const deploy = ['model', 'deploy', v2, '--environment', 'production'];
      const cases: [string[], string][] = [
        [
          [
            'model',
            'deploy',
            'not-a-uuid',
            '--environment',
            'production',
            '--deployment-type',
            'canary',
          ],
          'sentinel: model "not-a-uuid" must be a model version id (UUID), name@version (e.g. detector@2.0.0) or name@alias (e.g. detector@champion)\n',
        ],
        [
          [...deploy, '--deployment-type', 'rolling'],
          "sentinel: option '--deployment-type <type>' argument 'rolling' is invalid. Allowed choices are blue-green, canary.\n",
        ],
        [
          [...deploy, '--deployment-type', 'canary', '--steps', '50,25,100'],
          'sentinel: --steps "50,25,100" must increase, e.g. 5,25,100\n',
        ],
        [
          [...deploy, '--deployment-type', 'blue-green', '--min-staged-share', '1.2'],
          'sentinel: --min-staged-share "1.2" must be a number from 0 to 1, e.g. 0.8\n',
        ],
        [
          [...deploy, '--deployment-type', 'blue-green', '--steps', '50,100'],
          'sentinel: --steps needs --deployment-type canary\n',
        ],
        [
          [...deploy.slice(0, 3), '--deployment-type', 'canary'],
          "sentinel: required option '--environment <env>' not specified\n",
        ],
        [['deployment', 'status', '42'], 'sentinel: deployment id "42" is not a UUID\n'],
        [
          ['deployment', 'status', canary, '--watch', '--interval', '0'],
          'sentinel: --interval "0" must be a number of seconds from 0.1 to 3600\n',
        ],
        [['deployment', 'rollback', 'x'], 'sentinel: deployment id "x" is not a UUID\n'],
        [
          ['deployment', 'promote', canary, '--reason', ''],
          'sentinel: --reason must not be empty\n',
        ],
        [
          ['deployment', 'list', '--status', 'done'],
          'sentinel: --status "done" must be one of pending, staging, in_progress, paused, succeeded, rolled_back, failed, superseded\n',
        ],
      ];
      for (const [argv, line] of cases) {
        const result = await sentinel(argv);
        assert.equal(result.code, 2, argv.join(' '));
        assert.equal(result.stderr, line);
        assert.equal(result.stdout, '');
      }
      assert.equal(await deploymentCount(), before);
    });

    it('exits 4 for a wrong token or a role that may not deploy, 1 for an unknown deployment', async () => {
      const wrong = await sentinel(['deployment', 'list'], { SENTINEL_TOKEN: 'stl_wrong' });
      assert.equal(wrong.code, 4);
      assert.match(wrong.stderr, /^sentinel: .*\(HTTP 401 UNAUTHENTICATED\)\n$/);

      const created = await api(hub)('/api/v1/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'cli-deploy-viewer', role: 'viewer' }),
      });
      const { token } = (await created.json()) as { token: string };
      const viewerStatus = await sentinel(['deployment', 'status', canary], {
        SENTINEL_TOKEN: token,
      });
      assert.equal(viewerStatus.code, 0, viewerStatus.stderr);
      assert.match(viewerStatus.stdout, /\nhealth: inconclusive, evaluated /);
      const viewerRollback = await sentinel(['model', 'rollback', canary], {
        SENTINEL_TOKEN: token,
      });
      assert.equal(viewerRollback.code, 4);
      assert.match(viewerRollback.stderr, /\(HTTP 403 FORBIDDEN\)\n$/);

      const unknown = await sentinel([
        'deployment',
        'status',
        '00000000-0000-4000-8000-000000000000',
      ]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /\(HTTP 404 NOT_FOUND\)\n$/);
    });

    it('exits 3 when the hub cannot be reached, also while watching', async () => {
      for (const argv of [
        ['deployment', 'list'],
        ['deployment', 'status', canary, '--watch'],
        ['model', 'deploy', v2, '--environment', 'production', '--deployment-type', 'canary'],
      ]) {
        const result = await sentinel(argv, { SENTINEL_URL: 'http://127.0.0.1:9' });
        assert.equal(result.code, 3, argv.join(' '));
        assert.match(result.stderr, /^sentinel: cannot reach hub at http:\/\/127\.0\.0\.1:9: /);
      }
    });
  },
);
