import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  clean,
  formatDeploymentDetail,
  formatDeploymentLine,
  formatDeploymentList,
  formatEventLine,
  formatProgressLine,
  formatTimeSeconds,
} from './deployment-output.js';
import type { Deployment, DeploymentDetail, DeploymentEvent } from './hub-client.js';

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

  it('shows the status view with progress, failed devices and events', () => {
    assert.equal(
      formatDeploymentDetail(detail()),
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
        '               active 1, failed 1, rolled_back 0, unreported 0',
        '  created      2026-01-31 12:00:00Z by token:ci',
        'failed devices (1):',
        '  cam-07  failed  hash_mismatch (sha256 differs), 1 retries',
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
