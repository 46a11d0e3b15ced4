import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ID_PATTERN } from '@sentinel/broker';
import { DEPLOYMENT_STATUSES as HUB_STATUSES } from '../../deployments/domain/rollout.js';
import { UsageError } from '../cli-errors.js';
import { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES, FINISHED_STATUSES } from '../hub-api.js';
import {
  FLEET_ID_RE,
  checkFleetId,
  checkReason,
  checkUuid,
  parseInterval,
  parseDuration,
  parseSeconds,
  parseShare,
  parseSteps,
  prepareDeploy,
  prepareDeploymentListQuery,
  type DeployCliOptions,
} from './deployment-args.js';

const MODEL_ID = '0b8a4f4e-1111-4c5e-9d1a-2a0c3c4d5e6f';

function usageError(message: string) {
  return (err: unknown) =>
    err instanceof UsageError && err.exitCode === 2 && err.message === message;
}

const options = (overrides: Partial<DeployCliOptions> = {}): DeployCliOptions => ({
  environment: 'production',
  deploymentType: 'canary',
  target: 'all',
  autoRollback: true,
  ...overrides,
});

describe('deployment command validation', () => {
  it('agrees with the hub on statuses, types and the fleet id rule', () => {
    assert.deepEqual([...DEPLOYMENT_STATUSES], [...HUB_STATUSES]);
    assert.deepEqual([...DEPLOYMENT_TYPES], ['blue-green', 'canary']);
    assert.equal(FLEET_ID_RE.source, ID_PATTERN);
    for (const status of FINISHED_STATUSES) assert.ok(HUB_STATUSES.includes(status as never));
  });

  it('accepts UUIDs (any case, returned lower case) and refuses anything else', () => {
    assert.equal(checkUuid('model id', MODEL_ID.toUpperCase()), MODEL_ID);
    for (const bad of ['', 'x', `${MODEL_ID}0`, MODEL_ID.replaceAll('-', ''), ` ${MODEL_ID}`]) {
      assert.throws(
        () => checkUuid('deployment id', bad),
        usageError(`deployment id "${bad}" is not a UUID`),
      );
    }
  });

  it('checks group and environment names like the hub', () => {
    assert.equal(checkFleetId('--target', 'yard-cams.v2_a'), 'yard-cams.v2_a');
    for (const bad of ['Yard', '-yard', 'a b', '', 'x'.repeat(65)]) {
      assert.throws(() => checkFleetId('--target', bad), /^UsageError: --target ".*" must be 1-64/);
    }
  });

  it('parses canary steps: increasing percentages ending at 100', () => {
    assert.deepEqual(parseSteps('5,25,100'), [5, 25, 100]);
    assert.deepEqual(parseSteps(' 0.5 , 10,100'), [0.5, 10, 100]);
    assert.deepEqual(parseSteps('100'), [100]);
    const cases: [string, string][] = [
      ['5,25', 'must end at 100'],
      ['25,5,100', 'must increase'],
      ['5,5,100', 'must increase'],
      ['0,100', 'must be percentages from 0.01 to 100'],
      ['5,150', 'must be percentages from 0.01 to 100'],
      ['5,,100', 'must be a comma-separated list of numbers'],
      ['5%,100', 'must be a comma-separated list of numbers'],
      ['-5,100', 'must be a comma-separated list of numbers'],
      ['', 'must be a comma-separated list of numbers'],
      [Array.from({ length: 21 }, (_, i) => i * 4 + 20).join(','), 'must have at most 20 steps'],
    ];
    for (const [text, why] of cases) {
      assert.throws(() => parseSteps(text), usageError(`--steps "${text}" ${why}, e.g. 5,25,100`));
    }
  });

  it('parses shares from 0 to 1', () => {
    assert.equal(parseShare('--min-staged-share', '0'), 0);
    assert.equal(parseShare('--min-staged-share', '0.75'), 0.75);
    assert.equal(parseShare('--min-staged-share', '1'), 1);
    assert.equal(parseShare('--min-staged-share', '.5'), 0.5);
    for (const bad of ['1.01', '-0.1', '80%', 'half', '', '1e-1']) {
      assert.throws(
        () => parseShare('--max-failure-share', bad),
        usageError(`--max-failure-share "${bad}" must be a number from 0 to 1, e.g. 0.8`),
      );
    }
  });

  it('parses a maximum deferral as seconds or a duration with units', () => {
    assert.equal(parseDuration('--max-deferral', '1800'), 1800);
    assert.equal(parseDuration('--max-deferral', '30m'), 1800);
    assert.equal(parseDuration('--max-deferral', '1h30m'), 5400);
    assert.equal(parseDuration('--max-deferral', '2d'), 172800);
    assert.equal(parseDuration('--max-deferral', '0'), 0);
    for (const bad of ['', '30 minutes', '-5', '1.5h', 'm']) {
      assert.throws(
        () => parseDuration('--max-deferral', bad),
        usageError(`--max-deferral "${bad}" must be seconds or a duration such as 30m, 1h30m, 2d`),
      );
    }
    assert.throws(
      () => parseDuration('--max-deferral', '366d'),
      usageError('--max-deferral "366d" must be at most 365 days'),
    );
  });

  it('parses whole seconds up to 7 days, and the watch interval', () => {
    assert.equal(parseSeconds('--step-interval', '0', 0), 0);
    assert.equal(parseSeconds('--staging-timeout', '604800', 1), 604800);
    assert.throws(
      () => parseSeconds('--staging-timeout', '0', 1),
      usageError('--staging-timeout "0" must be an integer >= 1'),
    );
    assert.throws(
      () => parseSeconds('--device-timeout', '604801', 1),
      usageError('--device-timeout "604801" must be at most 604800 (7 days)'),
    );
    assert.equal(parseInterval(undefined), 1000);
    assert.equal(parseInterval('0.25'), 250);
    assert.equal(parseInterval('2'), 2000);
    for (const bad of ['0', '0.05', 'fast', '3601']) {
      assert.throws(
        () => parseInterval(bad),
        usageError(`--interval "${bad}" must be a number of seconds from 0.1 to 3600`),
      );
    }
  });

  it('checks a reason is not empty nor too long', () => {
    assert.equal(checkReason(undefined), undefined);
    assert.equal(checkReason('fps dropped'), 'fps dropped');
    assert.throws(() => checkReason('  '), usageError('--reason must not be empty'));
    assert.throws(
      () => checkReason('x'.repeat(501)),
      usageError('--reason must be at most 500 characters'),
    );
  });
});

describe('model deploy preparation', () => {
  it('sends only what was given, letting the hub apply its defaults', () => {
    assert.deepEqual(
      prepareDeploy(MODEL_ID, options({ deploymentType: 'blue-green', target: 'yard' })),
      {
        model_id: MODEL_ID,
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'yard',
      },
    );
  });

  it('--serve-as names the model of the devices it replaces, checked as an id', () => {
    assert.equal(
      prepareDeploy(MODEL_ID, options({ target: 'yard', serveAs: 'classifier' })).serve_as,
      'classifier',
    );
    assert.throws(
      () => prepareDeploy(MODEL_ID, options({ target: 'yard', serveAs: 'Not A Name' })),
      /^UsageError: --serve-as "Not A Name" must be/,
    );
  });

  it('maps every option to the request body', () => {
    assert.deepEqual(
      prepareDeploy(
        MODEL_ID,
        options({
          steps: '10,50,100',
          stepInterval: '600',
          stagingTimeout: '120',
          deviceTimeout: '300',
          maxDeferral: '30m',
          minStagedShare: '0.9',
          maxFailureShare: '0.1',
          maxRetries: '0',
          rules: '{"min_devices":3}',
          autoRollback: false,
          supersede: true,
          overrideGates: true,
          abort: '{"criteria":[{"failure_type":"download","threshold_percent":10}]}',
          startAt: '2026-12-24T22:00:00+01:00',
          rate: '100',
          ramp: '5,2,10',
        }),
      ),
      {
        model_id: MODEL_ID,
        environment: 'production',
        deployment_type: 'canary',
        target: 'all',
        canary: { steps: [10, 50, 100], step_interval_s: 600 },
        staging_timeout_s: 120,
        device_timeout_s: 300,
        max_deferral_s: 1800,
        min_staged_share: 0.9,
        max_failure_share: 0.1,
        max_retries: 0,
        rules: { min_devices: 3 },
        auto_rollback: false,
        supersede: true,
        override_gates: true,
        abort: { criteria: [{ failure_type: 'download', threshold_percent: 10 }] },
        start_at: '2026-12-24T21:00:00.000Z',
        rate: {
          max_per_minute: 100,
          ramp: { base_per_minute: 5, factor: 2, every_succeeded: 10 },
        },
      },
    );
    assert.deepEqual(prepareDeploy(MODEL_ID, options({ stepInterval: '0' })).canary, {
      step_interval_s: 0,
    });
  });

  it('refuses bad values with one message each', () => {
    const cases: [Partial<DeployCliOptions>, string, string?][] = [
      [
        {},
        'model "nope" must be a model version id (UUID), name@version (e.g. detector@2.0.0) or name@alias (e.g. detector@champion)',
        'nope',
      ],
      [
        { deploymentType: 'rolling' },
        '--deployment-type "rolling" must be one of blue-green, canary',
      ],
      [{ environment: 'Prod' }, '--environment "Prod" must be 1-64'],
      [{ deploymentType: 'blue-green', steps: '50,100' }, '--steps needs --deployment-type canary'],
      [
        { deploymentType: 'blue-green', stepInterval: '10' },
        '--step-interval needs --deployment-type canary',
      ],
      [{ steps: '50' }, '--steps "50" must end at 100, e.g. 5,25,100'],
      [{ minStagedShare: '1.5' }, '--min-staged-share "1.5" must be a number from 0 to 1'],
      [{ maxFailureShare: '-1' }, '--max-failure-share "-1" must be a number from 0 to 1'],
      [{ maxRetries: '21' }, '--max-retries "21" must be at most 20'],
      [{ rules: '[1]' }, '--rules must be a JSON object'],
      [{ rules: '{' }, '--rules must be a JSON object'],
      [{ abort: '[1]' }, '--abort must be a JSON object'],
      [{ abort: 'x' }, '--abort must be a JSON object'],
      [{ rate: '0' }, '--rate "0" must be an integer >= 1'],
      [{ ramp: '5,2,10' }, '--ramp needs --rate (the most devices a minute)'],
      [{ rate: '100', ramp: '5,1,10' }, '--ramp "5,1,10" must be BASE,FACTOR,EVERY'],
      [{ rate: '4', ramp: '5,2,10' }, '--ramp base 5 must not exceed --rate 4'],
      [
        { startAt: 'tomorrow' },
        '--start-at "tomorrow" must be an ISO 8601 time, e.g. 2026-12-24T22:00:00Z',
      ],
    ];
    for (const [overrides, message, modelId] of cases) {
      assert.throws(
        () => prepareDeploy(modelId ?? MODEL_ID, options(overrides)),
        (err: unknown) =>
          err instanceof UsageError && err.exitCode === 2 && err.message.startsWith(message),
        message,
      );
    }
  });
});

describe('deployment list query', () => {
  it('validates the filters', () => {
    assert.deepEqual(
      prepareDeploymentListQuery({
        status: 'rolled_back',
        environment: 'production',
        group: 'yard',
        modelId: MODEL_ID,
        serveAs: 'classifier',
        limit: '10',
        offset: '20',
      }),
      {
        status: 'rolled_back',
        environment: 'production',
        group: 'yard',
        modelId: MODEL_ID,
        serveAs: 'classifier',
        limit: 10,
        offset: 20,
      },
    );
    assert.throws(
      () => prepareDeploymentListQuery({ status: 'done' }),
      usageError(`--status "done" must be one of ${DEPLOYMENT_STATUSES.join(', ')}`),
    );
    assert.throws(
      () => prepareDeploymentListQuery({ limit: '501' }),
      usageError('--limit "501" must be at most 500'),
    );
    assert.throws(
      () => prepareDeploymentListQuery({ modelId: 'm1' }),
      usageError(
        '--model-id "m1" must be a model version id (UUID), name@version (e.g. detector@2.0.0) or name@alias (e.g. detector@champion)',
      ),
    );
  });
});
