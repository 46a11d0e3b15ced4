import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { deviceStateTopic, encodeMessage } from '@sentinel/broker';
import { connectDevice, createDevice, createGroup, pinGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';
import { runProcess } from './support/process.js';
import { json, pushModel } from './support/push.js';

const BIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;
/** The in-place redraw: carriage return, cursor up N rows, erase to the end of the screen. */
// eslint-disable-next-line no-control-regex
const REDRAW = /\r\u001b\[(\d+)A\u001b\[J/g;

/** A child process whose output can be read while it runs. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
  };
}

/** Waits for a condition a child process makes true (the test's own timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await delay(20);
}

describe('sentinel deployment commands through the real bin', { timeout: 120_000 }, () => {
  let hub: InProcessHub;
  let v1: string;
  let v2: string;

  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    SENTINEL_URL: hub.url,
    SENTINEL_TOKEN: hub.adminToken,
    ...extra,
  });
  const sentinel = (args: string[], extra: Record<string, string> = {}) =>
    runProcess(process.execPath, [BIN, ...args], env(extra));

  /**
   * A canary that stays at its first step (its step lasts an hour) on a group with offline devices;
   * `serveAs`: of that named model.
   */
  async function slowCanary(group: string, serveAs?: string): Promise<string> {
    const result = await sentinel([
      'model',
      'deploy',
      v2,
      '--environment',
      'production',
      '--deployment-type',
      'canary',
      '--target',
      group,
      '--step-interval',
      '3600',
      ...(serveAs ? ['--serve-as', serveAs] : []),
    ]);
    assert.equal(result.code, 0, result.stderr);
    const as = serveAs ? ` \\(as ${serveAs}\\)` : '';
    const match = new RegExp(
      `^deployment ([0-9a-f-]{36})${as} in_progress, canary step 1/3 at 5 %\n$`,
    ).exec(result.stdout);
    assert.ok(match, result.stdout);
    return match[1]!;
  }

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    for (const group of ['bin-yard', 'bin-dock', 'bin-empty', 'bin-tty']) {
      await createGroup(hub, group);
    }
    await createDevice(hub, 'bin-cam-1', 'bin-yard');
    await createDevice(hub, 'bin-cam-2', 'bin-dock');
    await createDevice(hub, 'bin-cam-3', 'bin-tty');
    v1 = (
      await json<{ id: string }>(
        await pushModel(hub, fastModel(), { name: 'bin', version: '1.0.0' }),
      )
    ).id;
    v2 = (
      await json<{ id: string }>(
        await pushModel(hub, fastModel(), { name: 'bin', version: '2.0.0' }),
      )
    ).id;
    for (const group of ['bin-yard', 'bin-dock', 'bin-tty']) await pinGroup(hub, group, v1);
  });

  after(async () => {
    await hub?.stop();
  });

  it('documents the deployment commands in --help', async () => {
    const root = await sentinel(['--help']);
    assert.equal(root.code, 0);
    assert.match(root.stdout, /\n {2}deployment \[options\] +follow, list and steer deployments/);
    const deploy = await sentinel(['model', 'deploy', '--help']);
    assert.equal(deploy.code, 0);
    for (const flag of [
      '--environment <env>',
      '--deployment-type <type>',
      '--target <group>',
      '--steps <list>',
      '--step-interval <s>',
      '--staging-timeout <s>',
      '--device-timeout <s>',
      '--min-staged-share <f>',
      '--max-failure-share <f>',
      '--no-auto-rollback',
      '--supersede',
      '--wait',
      'SENTINEL_TOKEN',
      'Exit codes:',
    ]) {
      assert.ok(deploy.stdout.includes(flag), flag);
    }
    const status = await sentinel(['deployment', 'status', '--help']);
    assert.match(status.stdout, /--watch/);
    assert.match(status.stdout, /GET \/api\/v1\/deployments\/:id\/health/);
    assert.match(status.stdout, /redrawn in place on a terminal/);
    for (const action of ['rollback', 'pause', 'resume', 'promote']) {
      const help = await sentinel(['deployment', action, '--help']);
      assert.equal(help.code, 0);
      assert.match(
        help.stdout,
        new RegExp(`Usage: sentinel deployment ${action} \\[options\\] <deployment_id>`),
      );
      assert.match(help.stdout, /--reason <text>/);
    }
  });

  it('deploy --wait exits 0 once a blue-green deployment succeeded', async () => {
    const result = await sentinel([
      'model',
      'deploy',
      v2,
      '--environment',
      'production',
      '--deployment-type',
      'blue-green',
      '--target',
      'bin-empty',
      '--wait',
      '--interval',
      '0.1',
    ]);
    // Said on stderr, and no error: the rules have nothing to judge an empty new group by.
    assert.equal(
      result.stderr,
      'warning: group bin-empty ran no model before: no baseline to judge against nor to roll back to; the rules do not hold this deployment\n',
    );
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^deployment [0-9a-f-]{36} staging\n/);
    assert.match(result.stdout, /\n\S+ \S+Z {2}succeeded \| [^\n]+\n$/);
  });

  it('status --watch (not a terminal) appends lines and exits 1 when the deployment is rolled back', async () => {
    const id = await slowCanary('bin-yard');
    const watch = start(
      process.execPath,
      [BIN, 'deployment', 'status', id, '--watch', '--interval', '0.1'],
      env(),
    );
    await until(() => watch.stdout().includes('in_progress'));
    const rollback = await sentinel(['model', 'rollback', id, '--reason', 'bin watch']);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.equal(rollback.stdout, `deployment ${id} rolled_back, canary step 1/3 at 5 %\n`);

    assert.equal(await watch.exited, 1);
    assert.equal(watch.stderr(), `sentinel: deployment ${id} rolled_back: bin watch\n`);
    const all = watch.stdout().trimEnd().split('\n');
    // the health verdict is logged on the first poll (and again whenever it changes)
    const health = /^\S+ \S+Z {2}health (not evaluated yet|inconclusive: )/;
    assert.match(all[0], health);
    const lines = all.filter((line) => !health.test(line));
    assert.match(lines[0], /^\S+ \S+Z {2}in_progress \| canary step 1\/3 at 5 % \| 1 targets/);
    assert.match(lines.at(-1)!, /^\S+ \S+Z {2}rolled_back \| .* \| bin watch$/);
    assert.ok(
      lines.some((line) => / rolled_back \(in_progress -> rolled_back\) by token:/.test(line)),
    );

    const second = await sentinel(['model', 'rollback', id]);
    assert.equal(second.code, 1);
    assert.equal(
      second.stderr,
      `sentinel: cannot rollback deployment ${id}: it is rolled_back already (HTTP 409 CONFLICT)\n`,
    );
  });

  it('pause, resume and promote through the bin, then list finds it', async () => {
    const id = await slowCanary('bin-dock');
    const pause = await sentinel(['deployment', 'pause', id]);
    assert.equal(pause.stdout, `deployment ${id} paused, canary step 1/3 at 5 %\n`);
    const resume = await sentinel(['deployment', 'resume', id]);
    assert.equal(resume.stdout, `deployment ${id} in_progress, canary step 1/3 at 5 %\n`);
    const promote = await sentinel(['deployment', 'promote', id, '--reason', 'soak done']);
    assert.equal(promote.code, 0, promote.stderr);
    assert.match(promote.stdout, /canary step 2\/3 at 25 %\n$/);

    const list = await sentinel([
      'deployment',
      'list',
      '--group',
      'bin-dock',
      '--status',
      'in_progress',
    ]);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 2);
    assert.match(
      rows[1],
      new RegExp(`^${id} {2}bin@2\\.0\\.0 {2}canary +production +bin-dock +in_progress +\\d{4}-`),
    );
  });

  it(
    'redraws status --watch in place on a terminal',
    { skip: !HAS_SCRIPT && 'no script(1)' },
    async () => {
      const id = await slowCanary('bin-tty');
      // script(1) runs the bin on a pseudo-terminal; stty gives it a size
      const command = `stty cols 100 rows 40; exec "${process.execPath}" "${BIN}" deployment status ${id} --watch --interval 0.1`;
      const watch = start('script', ['-qec', command, '/dev/null'], { ...env(), SHELL: '/bin/sh' });
      await until(() => watch.stdout().match(REDRAW) !== null);
      const rollback = await sentinel(['deployment', 'rollback', id, '--reason', 'tty test']);
      assert.equal(rollback.code, 0, rollback.stderr);
      assert.equal(await watch.exited, 1);

      // the pty turns \n into \r\n; a redraw is \r, cursor up N rows, erase to the end of the screen
      const output = watch.stdout().replaceAll('\r\n', '\n');
      const frames: string[] = [];
      let from = 0;
      for (const match of output.matchAll(REDRAW)) {
        const frame = output.slice(from, match.index);
        // it goes up exactly the rows the frame before it took
        assert.equal(Number(match[1]), frame.split('\n').length - 1);
        frames.push(frame);
        from = match.index + match[0].length;
      }
      frames.push(output.slice(from));
      assert.ok(frames.length >= 2);
      assert.match(frames[0], /\n {2}status {7}in_progress \(rolling out\)\n/);
      assert.match(frames[0], /\nhealth: (not evaluated yet|inconclusive, evaluated )/);
      assert.match(frames[0], /\nupdated \S+ \S+Z, every 0\.1 s; Ctrl-C stops watching/);
      const last = frames.at(-1)!;
      assert.match(last, /\n {2}status {7}rolled_back\n {2}reason {7}tty test\n/);
      assert.doesNotMatch(last, /Ctrl-C/);
      assert.match(output, new RegExp(`sentinel: deployment ${id} rolled_back: tty test`));
    },
  );

  it('--serve-as deploys to a named model beside the default one, and the lines name it', async () => {
    // bin-dock still runs the `default` canary of the pause/resume case: a deployment of a named
    // model to the same group is no conflict.
    const pin = await sentinel(['group', 'pin', 'bin-dock', v1, '--serve-as', 'classifier']);
    assert.equal(pin.code, 0, pin.stderr);
    const desired = await sentinel([
      'group',
      'desired',
      'bin-dock',
      '--serve-as',
      'classifier',
      '--json',
    ]);
    assert.equal((JSON.parse(desired.stdout) as { model: { id: string } }).model.id, v1);
    const id = await slowCanary('bin-dock', 'classifier');
    const listed = await sentinel(['deployment', 'list', '--serve-as', 'classifier']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id} .*bin-dock \\(as classifier\\)`));
    const status = await sentinel(['deployment', 'status', id]);
    assert.match(status.stdout, /serve as +classifier/);
    const rolled = await sentinel(['deployment', 'rollback', id]);
    assert.equal(rolled.code, 0, rolled.stderr);
    const bad = await sentinel(['deployment', 'list', '--serve-as', 'Bad Name']);
    assert.equal(bad.code, 2);
  });

  it('exits 2 on bad arguments, 4 on a wrong token, 3 when the hub is unreachable', async () => {
    const bad = await sentinel([
      'model',
      'deploy',
      v2,
      '--environment',
      'production',
      '--deployment-type',
      'canary',
      '--steps',
      '5,25',
    ]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'sentinel: --steps "5,25" must end at 100, e.g. 5,25,100\n');
    const share = await sentinel([
      'model',
      'deploy',
      v2,
      '--environment',
      'production',
      '--deployment-type',
      'blue-green',
      '--max-failure-share',
      '2',
    ]);
    assert.equal(share.code, 2);
    assert.match(share.stderr, /^sentinel: --max-failure-share "2" must be a number from 0 to 1/);
    const uuid = await sentinel(['deployment', 'status', 'latest']);
    assert.equal(uuid.code, 2);
    assert.equal(uuid.stderr, 'sentinel: deployment id "latest" is not a UUID\n');
    const type = await sentinel([
      'model',
      'deploy',
      v2,
      '--environment',
      'production',
      '--deployment-type',
      'ab',
    ]);
    assert.equal(type.code, 2);
    assert.match(
      type.stderr,
      /^sentinel: option '--deployment-type <type>' argument 'ab' is invalid/,
    );

    const token = await sentinel(['deployment', 'list'], { SENTINEL_TOKEN: 'stl_not-a-token' });
    assert.equal(token.code, 4);
    assert.match(token.stderr, /^sentinel: .*\(HTTP 401 [A-Z_]+\)\n$/);

    const unreachable = await sentinel(['deployment', 'list'], {
      SENTINEL_URL: 'http://127.0.0.1:9',
    });
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /^sentinel: cannot reach hub at http:\/\/127\.0\.0\.1:9/);

    const response = await api(hub)('/api/v1/deployments?model_id=' + v1);
    assert.equal(((await response.json()) as { total: number }).total, 0);
  });

  it('exits 1 with one line when no target device can run the model', async () => {
    await createGroup(hub, 'bin-lab');
    const device = await createDevice(hub, 'bin-cam-lab', 'bin-lab');
    // The device reports its capabilities as an agent would: over MQTT, in its retained state.
    const client = await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, device);
    try {
      await client.publishAsync(
        deviceStateTopic('bin-cam-lab'),
        encodeMessage('device-state', {
          device_id: 'bin-cam-lab',
          online: true,
          ts: new Date().toISOString(),
          capabilities: { max_opset: 21, memory_mb: 2048, labels: ['site:berlin'] },
        }),
        { qos: 1, retain: true },
      );
      for (;;) {
        const reported = await json<{ capabilities: unknown }>(
          await api(hub)('/api/v1/devices/bin-cam-lab'),
        );
        if (reported.capabilities) break;
        await delay(50);
      }
      const thermal = await json<{ id: string }>(
        await pushModel(hub, fastModel(), {
          name: 'bin',
          version: '3.0.0',
          metadata: JSON.stringify({ requirements: { labels: ['camera:thermal'] } }),
        }),
      );
      const result = await sentinel([
        'model',
        'deploy',
        thermal.id,
        '--environment',
        'production',
        '--deployment-type',
        'blue-green',
        '--target',
        'bin-lab',
      ]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.match(
        result.stderr,
        /^sentinel: no target device is compatible with the model \(bin-cam-lab: label camera:thermal missing\): .* \(HTTP 409 INCOMPATIBLE\)\n$/,
      );
    } finally {
      await client.endAsync();
    }
  });
});
