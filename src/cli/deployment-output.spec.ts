import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RULES, evaluateHealth } from '../rules/domain/health.js';
import { evaluateShadow, shadowFiguresOf } from '../rules/domain/shadow.js';
import { DeviceAccumulator, versionOf } from '../telemetry/domain/aggregate.js';
import {
  HEALTH_METRICS,
  clean,
  formatDeploymentDetail,
  formatHealth,
  formatHealthLine,
  formatDeploymentLine,
  formatDeploymentList,
  formatEventLine,
  formatProgressLine,
  formatTimeSeconds,
  rateLine,
} from './deployment-output.js';
import type { DeploymentStatus } from './deployment-status.js';
import type { Deployment, DeploymentDetail, DeploymentEvent, DeploymentHealth } from './hub-api.js';

function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'd0000000-0000-4000-8000-000000000001',
    model: { id: 'm0000000-0000-4000-8000-000000000001', name: 'detector', version: '1.4.0' },
    environment: 'production',
    deployment_type: 'canary',
    target: 'yard-cams',
    groups: [{ name: 'yard-cams', previous_model_id: null }],
    status: 'in_progress',
    status_reason: null,
    start_at: null,
    canary: { steps: [5, 25, 100], step_interval_s: 300, step_index: 1, percent: 25, salt: 's' },
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
    updated_at: '2026-01-31T12:05:00.000Z',
    finished_at: null,
    ...overrides,
  };
}

function event(id: number, overrides: Partial<DeploymentEvent> = {}): DeploymentEvent {
  return {
    id: String(id),
    at: `2026-01-31T12:0${id}:00.000Z`,
    actor: 'hub',
    type: 'step',
    from_status: 'in_progress',
    to_status: 'in_progress',
    device_id: null,
    reason: null,
    figures: {},
    ...overrides,
  };
}

function detail(overrides: Partial<DeploymentDetail> = {}): DeploymentDetail {
  return {
    ...deployment(),
    progress: {
      targets: 12,
      online: 10,
      participating: 3,
      phases: {
        notified: 0,
        downloading: 1,
        verifying: 0,
        staged: 0,
        deferred: 0,
        active: 1,
        failed: 1,
        rolled_back: 0,
        unreported: 0,
      },
      failed_devices: [
        {
          device_id: 'cam-07',
          phase: 'failed',
          reason: 'hash_mismatch',
          detail: 'sha256 differs',
          attempts: 1,
        },
      ],
      deferred_devices: [],
      skipped_devices: [
        { device_id: 'cam-09', reason: 'incompatible', detail: 'label camera:ip67 missing' },
      ],
    },
    events: [
      event(1, {
        actor: 'token:ci',
        type: 'created',
        from_status: null,
        to_status: 'in_progress',
      }),
      event(2, { figures: { step_index: 1, percent: 25 } }),
    ],
    ...overrides,
  };
}

describe('deployment output', () => {
  it('prints one line for a created or acted-on deployment', () => {
    assert.equal(
      formatDeploymentLine(deployment()),
      'deployment d0000000-0000-4000-8000-000000000001 in_progress, canary step 2/3 at 25 %\n',
    );
    assert.equal(
      formatDeploymentLine(
        deployment({ deployment_type: 'blue-green', canary: null, status: 'staging' }),
      ),
      'deployment d0000000-0000-4000-8000-000000000001 staging\n',
    );
    // A named model's deployment says which; `default` (or an older hub) says nothing.
    assert.equal(
      formatDeploymentLine(deployment({ serve_as: 'classifier' })),
      'deployment d0000000-0000-4000-8000-000000000001 (as classifier) in_progress, canary step 2/3 at 25 %\n',
    );
    assert.equal(
      formatDeploymentLine(deployment({ serve_as: 'default' })),
      formatDeploymentLine(deployment()),
    );
  });

  it('lists deployments as a table with a page footer', () => {
    assert.equal(
      formatDeploymentList({ items: [deployment()], total: 3, limit: 1, offset: 1 }),
      'ID                                    MODEL           TYPE    ENVIRONMENT  TARGET     STATUS       CREATED\n' +
        'd0000000-0000-4000-8000-000000000001  detector@1.4.0  canary  production   yard-cams  in_progress  2026-01-31 12:00Z\n' +
        '2-2 of 3\n',
    );
    assert.equal(
      formatDeploymentList({ items: [], total: 0, limit: 50, offset: 0 }),
      'no deployments found\n',
    );
    assert.equal(
      formatDeploymentList({ items: [], total: 4, limit: 50, offset: 10 }),
      'no deployments at offset 10 (total 4)\n',
    );
  });

  it('shows the status view with progress, failed and deferred devices and events', () => {
    const shown = detail();
    shown.progress.phases.deferred = 1;
    shown.progress.deferred_devices = [
      {
        device_id: 'cam-09',
        reason: 'update_locked',
        detail: 'recording',
        since: '2026-01-31T12:03:00.000Z',
      },
    ];
    assert.equal(
      formatDeploymentDetail(shown),
      [
        'deployment d0000000-0000-4000-8000-000000000001',
        '  model        detector@1.4.0 (m0000000-0000-4000-8000-000000000001)',
        '  status       in_progress',
        '  reason       -',
        '  type         canary',
        '  environment  production',
        '  target       yard-cams (groups: yard-cams)',
        '  canary       step 2/3 at 25 % (steps 5, 25, 100; 300 s each)',
        '  devices      12 targets, 10 online, 3 participating',
        '  phases       notified 0, downloading 1, verifying 0, staged 0',
        '               deferred 1, active 1, failed 1, rolled_back 0, unreported 0',
        '  created      2026-01-31 12:00:00Z by token:ci',
        'failed devices (1):',
        '  cam-07  failed  hash_mismatch (sha256 differs), 1 retries',
        'deferred devices (1, update locked by their application):',
        '  cam-09  recording  since 2026-01-31 12:03:00Z',
        'skipped devices (1, they keep their model):',
        '  cam-09  incompatible  (label camera:ip67 missing)',
        'events (2):',
        '  2026-01-31 12:01:00Z  created (-> in_progress) by token:ci',
        '  2026-01-31 12:02:00Z  step to 25 % by hub',
        '',
      ].join('\n'),
    );
  });

  it('shows only the newest events and the first failed devices', () => {
    const many = detail({
      status: 'rolled_back',
      status_reason: 'fps dropped',
      finished_at: '2026-01-31T12:09:00.000Z',
      events: Array.from({ length: 8 }, (_, i) => event(i + 1)),
    });
    many.progress.failed_devices = Array.from({ length: 12 }, (_, i) => ({
      device_id: `cam-${i}`,
      phase: 'rolled_back',
      reason: null,
      detail: null,
      attempts: 0,
    }));
    const text = formatDeploymentDetail(many);
    assert.match(text, /\n {2}reason {7}fps dropped\n/);
    assert.match(text, /\n {2}finished {5}2026-01-31 12:09:00Z\n/);
    assert.match(text, /\nfailed devices \(12\):\n {2}cam-0 {2}rolled_back {2}-\n/);
    assert.match(
      text,
      /\n {2}cam-9 {2}rolled_back {2}-\n {2}\.\.\. 2 more \(--json lists them all\)\n/,
    );
    assert.match(text, /\nevents \(last 5 of 8\):\n {2}2026-01-31 12:04:00Z {2}step by hub\n/);
    assert.doesNotMatch(text, /12:03:00Z/);
  });

  it('sums a deployment up on one log line', () => {
    assert.equal(
      formatProgressLine(detail()),
      'in_progress | canary step 2/3 at 25 % | 12 targets, 10 online, 3 participating | downloading 1, active 1, failed 1',
    );
    assert.equal(
      formatProgressLine(
        detail({
          deployment_type: 'blue-green',
          canary: null,
          status: 'succeeded',
          status_reason: 'all active',
          progress: { ...detail().progress, phases: {}, targets: 0, online: 0, participating: 0 },
        }),
      ),
      'succeeded | 0 targets, 0 online, 0 participating | no participating devices | all active',
    );
    assert.equal(
      formatEventLine(
        event(3, {
          type: 'rolled_back',
          to_status: 'rolled_back',
          actor: 'token:ops',
          reason: 'fps dropped',
        }),
      ),
      'event 2026-01-31 12:03:00Z  rolled_back (in_progress -> rolled_back) by token:ops: fps dropped',
    );
  });

  it('keeps text from devices and users from breaking lines or driving the terminal', () => {
    assert.equal(clean('a\nb\u001b[2Jc\u009b'), 'a b [2Jc ');
    const hostile = detail();
    hostile.progress.failed_devices[0].detail = 'line1\nline2\u001b[31m';
    hostile.status_reason = 'x\r\ny';
    const lines = formatDeploymentDetail(hostile).split('\n');
    assert.ok(lines.includes('  cam-07  failed  hash_mismatch (line1 line2 [31m), 1 retries'));
    assert.ok(lines.includes('  reason       x  y'));
    assert.equal(formatProgressLine(hostile).includes('\n'), false);
  });

  it('formats times to the second', () => {
    assert.equal(formatTimeSeconds('2026-01-31T12:34:56.789Z'), '2026-01-31 12:34:56Z');
    assert.equal(formatTimeSeconds('soon'), 'soon');
  });
});

/** A canary whose new version runs at half the fps of the previous one: what the rules roll back. */
function degradedHealth(): DeploymentHealth {
  return {
    deployment_id: 'd0000000-0000-4000-8000-000000000001',
    verdict: 'degraded',
    evaluated_at: '2026-01-31T12:04:30.123Z',
    checks: [
      {
        metric: 'fps',
        status: 'degraded',
        cohort: 15,
        baseline: 30,
        change: -50,
        threshold: 20,
        floor: 0.5,
        p_value: 0.00002,
        alpha: 0.01,
        samples: {
          unit: 'devices',
          cohort: { devices: 3, windows: 120 },
          baseline: { devices: 9, windows: 360 },
        },
        detail:
          'fps 15 fps vs 30 fps (-50 %, limit -20 % and 0.5 fps; p < 0.0001 < 0.01; 3 vs 9 devices)',
      },
      {
        metric: 'latency_p95',
        status: 'ok',
        cohort: 42.123,
        baseline: 40,
        change: 5.31,
        threshold: 30,
        detail: 'latency_p95 42.12 ms vs 40 ms (+5.31 %, limit +30 %)',
      },
      {
        metric: 'memory',
        status: 'ok',
        cohort: 210,
        baseline: 200,
        change: 5,
        threshold: 50,
        detail: 'memory 210 MB vs 200 MB (+5 %, limit +50 %)',
      },
      {
        metric: 'error_rate',
        status: 'ok',
        cohort: 0.2,
        baseline: 0.1,
        change: null,
        threshold: 5,
        detail: 'error rate 0.2 % (2 errors / 1002 inferences, limit 5 %)',
      },
      {
        metric: 'map',
        status: 'no_data',
        cohort: null,
        baseline: 0.61,
        change: null,
        threshold: 5,
        detail: 'no mAP reported on both sides',
      },
      {
        metric: 'map_floor',
        status: 'ok',
        cohort: 0.58,
        baseline: null,
        change: null,
        threshold: 0.5,
        detail: "mAP 58 vs the version's floor 50",
      },
      {
        metric: 'staging_failures',
        status: 'ok',
        cohort: 0,
        baseline: null,
        change: null,
        threshold: 20,
        detail: '0/3 devices failed to stage (0 %, limit 20 %)',
      },
    ],
    reasons: [
      'fps 15 fps vs 30 fps (-50 %, limit -20 % and 0.5 fps; p < 0.0001 < 0.01; 3 vs 9 devices)',
    ],
    action: 'rolled_back',
    stage: 'rolling_out',
    step_index: 1,
    baseline_kind: 'outside',
    window: {
      from: '2026-01-31T12:03:30.123Z',
      to: '2026-01-31T12:04:30.123Z',
      baseline_from: '2026-01-31T12:03:30.123Z',
      baseline_to: '2026-01-31T12:04:30.123Z',
    },
    new_version: '1.4.0',
    baseline_versions: ['1.3.0'],
    cohort: { model_version: '1.4.0', devices: 3, samples: 120, fps: 15 },
    baseline: { model_version: '1.3.0', devices: 9, samples: 360, fps: 30 },
  };
}

describe('deployment health output', () => {
  it('shows the verdict, the versions, one row per check and the reasons', () => {
    assert.equal(
      formatHealth({ health: degradedHealth() }),
      [
        'health: degraded, evaluated 2026-01-31 12:04:30Z, action rolled_back',
        '  new       1.4.0: 3 devices, 120 samples',
        '  baseline  1.3.0: 9 devices, 360 samples (devices outside the cohort, same window)',
        '  judged    rolling out, step 1',
        '  METRIC            NEW       BASELINE  CHANGE   LIMIT            P                 SAMPLES         STATUS',
        '  fps               15 fps    30 fps    -50 %    -20 % & 0.5 fps  <0.0001 (< 0.01)  3 vs 9 devices  degraded',
        '  latency_p95       42.12 ms  40 ms     +5.31 %  +30 %            -                 -               ok',
        '  memory            210 MB    200 MB    +5 %     +50 %            -                 -               ok',
        '  error_rate        0.2 %     0.1 %     -        max 5 %          -                 -               ok',
        '  map               -         61        -        -5 pts           -                 -               no_data',
        '  map_floor         58        -         -        min 50           -                 -               ok',
        '  staging_failures  0 %       -         -        max 20 %         -                 -               ok',
        '  reason: fps 15 fps vs 30 fps (-50 %, limit -20 % and 0.5 fps; p < 0.0001 < 0.01; 3 vs 9 devices)',
        '',
      ].join('\n'),
    );
  });

  it('puts the health block after the deployment and before failed devices and events', () => {
    const status: DeploymentStatus = { ...detail(), health: degradedHealth() };
    const lines = formatDeploymentDetail(status).split('\n');
    const at = (prefix: string) => lines.findIndex((line) => line.startsWith(prefix));
    assert.equal(at('health: degraded'), at('  created') + 1);
    assert.equal(at('failed devices'), at('  reason: fps') + 1);
    assert.ok(at('events') > at('failed devices'));
    // a plain DeploymentDetail (no health fetched) has no block
    assert.doesNotMatch(formatDeploymentDetail(detail()), /health/);
  });

  it('shows a deployment not evaluated yet, a baseline without a model, and unknown metrics', () => {
    const none: DeploymentHealth = {
      deployment_id: 'd0000000-0000-4000-8000-000000000001',
      verdict: null,
      evaluated_at: null,
      checks: [],
      reasons: [],
      action: 'none',
    };
    assert.equal(formatHealth({ health: none }), 'health: not evaluated yet\n');
    assert.equal(formatHealthLine({ health: none }), 'health not evaluated yet');

    const inconclusive: DeploymentHealth = {
      ...none,
      verdict: 'inconclusive',
      evaluated_at: '2026-01-31T12:04:30.000Z',
      checks: [
        {
          metric: 'gpu_temp',
          status: 'no_data',
          cohort: 71.456,
          baseline: null,
          change: 2,
          threshold: 80,
          detail: 'x',
        },
      ],
      reasons: ['new version: 0 devices and 0 samples in the window; need 1 and 3'],
      new_version: '2.0.0',
      baseline_versions: [],
      cohort: null,
      baseline: null,
    };
    assert.equal(
      formatHealth({ health: inconclusive }),
      [
        'health: inconclusive, evaluated 2026-01-31 12:04:30Z',
        '  new       2.0.0: no telemetry in the window',
        '  baseline  none (the groups ran no model before)',
        '  METRIC    NEW    BASELINE  CHANGE  LIMIT  P  SAMPLES  STATUS',
        '  gpu_temp  71.46  -         +2 %    80     -  -        no_data',
        '  reason: new version: 0 devices and 0 samples in the window; need 1 and 3',
        '',
      ].join('\n'),
    );
    assert.equal(
      formatHealthLine({ health: inconclusive }),
      'health inconclusive: new version: 0 devices and 0 samples in the window; need 1 and 3',
    );
  });

  it('says why the health is unavailable', () => {
    const unavailable = {
      health: null,
      health_unavailable: 'this hub has no health endpoint (HTTP 404 NOT_FOUND)',
    };
    assert.equal(
      formatHealth(unavailable),
      'health: unavailable (this hub has no health endpoint (HTTP 404 NOT_FOUND))\n',
    );
    assert.equal(
      formatHealthLine(unavailable),
      'health unavailable (this hub has no health endpoint (HTTP 404 NOT_FOUND))',
    );
    const status: DeploymentStatus = { ...detail(), ...unavailable };
    assert.match(
      formatDeploymentDetail(status),
      /\n {2}created {6}[^\n]+\nhealth: unavailable \(this hub has no health endpoint/,
    );
  });

  it('keeps text from the hub on one line', () => {
    const hostile = degradedHealth();
    hostile.reasons = ['fps\ndropped\u001b[2J'];
    hostile.checks[0].metric = 'fps\r\nx';
    hostile.new_version = '1.4.0\n';
    const text = formatHealth({ health: hostile });
    assert.ok(text.includes('\n  reason: fps dropped [2J\n'));
    assert.ok(text.includes('\n  new       1.4.0 : 3 devices'));
    assert.ok(text.includes('\n  fps  x  '));
    assert.equal(text.includes('\u001b'), false);
    assert.equal(formatHealthLine({ health: hostile }).includes('\n'), false);
  });

  it("labels every metric the hub's rules report", () => {
    const figures = (version: string, fps: number) =>
      versionOf(
        version,
        ['a', 'b', 'c'].map((device) => {
          const acc = new DeviceAccumulator(device, version);
          for (const jitter of [0.98, 1, 1.02, 1, 0.99]) {
            acc.add({
              fps: fps * jitter,
              latency_p95: 10,
              memory_mb: 100,
              frames: 20,
              errors: 0.2,
              map: 0.6,
            });
          }
          return acc.row();
        }),
      )!;
    const report = evaluateHealth({
      cohort: figures('2.0.0', 10),
      baseline: figures('1.0.0', 30),
      baselineKind: 'before',
      staging: { failed: 1, total: 3 },
      mapFloor: 0.5,
      policy: DEFAULT_RULES,
    });
    assert.equal(report.verdict, 'degraded');
    // And the shadow phase's checks (rules/domain/shadow.ts).
    const shadow = evaluateShadow({
      figures: shadowFiguresOf('2.0.0', [
        {
          device: 'a',
          model_version: '2.0.0',
          windows: 6,
          samples: 60,
          dropped: 0,
          errors: 0,
          latency_p95: 10,
          latency_p95_sd: 1,
          active_latency_p95: 10,
          active_latency_p95_sd: 1,
          agreement: 1,
          agreement_sd: 0,
        },
      ]),
      policy: DEFAULT_RULES,
      minAgreement: 0.9,
    });
    const metrics = new Set([...report.checks, ...shadow.checks].map((check) => check.metric));
    assert.deepEqual([...metrics].sort(), [...HEALTH_METRICS].sort());
    const text = formatHealth({
      health: { deployment_id: 'd', evaluated_at: null, action: 'none', ...report },
    });
    assert.match(
      text,
      /\n {2}fps +9\.98 fps +29\.94 fps +-66\.67 % +-10 % & 0\.5 fps +<0\.0001 \(< 0\.01\) +15 vs 15 windows +degraded\n/,
    );
    assert.match(text, /\n {2}staging_failures +33\.33 % +- +- +max 20 % +- +- +degraded\n/);
  });
});

describe('the rate line', () => {
  it('says the limit, the ramp and how far the notifications got', () => {
    assert.equal(
      rateLine({
        max_per_minute: 100,
        ramp: { base_per_minute: 5, factor: 2, every_succeeded: 10 },
        notified_percent: 37.5,
      }),
      'up to 100/min, ramp 5/min x2 per 10 done; cohort told: 37.5 %',
    );
    assert.equal(
      rateLine({ max_per_minute: 30, ramp: null, notified_percent: 100 }),
      'up to 30/min; cohort told: 100 %',
    );
  });
});
