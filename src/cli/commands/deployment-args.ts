// What `sentinel model deploy` and `sentinel deployment ...` accept: option values checked locally
// and turned into hub requests, each problem a UsageError (exit 2) before anything is sent.
import { UsageError } from '../cli-errors.js';
import {
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TYPES,
  type CreateDeploymentBody,
  type DeploymentType,
  type ListDeploymentsQuery,
} from '../hub-api.js';
import { checkModelRef } from '../model-ref.js';
import { checkMetadata, parseCount } from './model.js';

/** Raw option values as commander hands them to `model deploy`. */
export interface DeployCliOptions {
  environment: string;
  deploymentType: string;
  target: string;
  serveAs?: string;
  steps?: string;
  stepInterval?: string;
  stagingTimeout?: string;
  deviceTimeout?: string;
  maxDeferral?: string;
  minStagedShare?: string;
  maxFailureShare?: string;
  maxRetries?: string;
  rules?: string;
  abort?: string;
  rate?: string;
  ramp?: string;
  startAt?: string;
  observe?: string;
  observeInconclusive?: string;
  salt?: string;
  /** false with --no-auto-rollback. */
  autoRollback: boolean;
  supersede?: boolean;
  overrideGates?: boolean;
  wait?: boolean;
  interval?: string;
}

export interface DeploymentListCliOptions {
  status?: string;
  environment?: string;
  group?: string;
  modelId?: string;
  serveAs?: string;
  limit?: string;
  offset?: string;
}

/** The fleet id rule of groups and environments (ID_PATTERN of @sentinel/broker; a spec checks). */
export const FLEET_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL_RE = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const MAX_SECONDS = 7 * 24 * 3600;
export const MAX_REASON_LENGTH = 500;
const MAX_STEPS = 20;
export const MAX_PAGE = 500;
export const DEFAULT_INTERVAL_S = 1;

export function checkUuid(label: string, value: string): string {
  if (!UUID_RE.test(value)) throw new UsageError(`${label} "${value}" is not a UUID`);
  return value.toLowerCase();
}

/** `--serve-as NAME`: a named model of the devices (docs/protocol.md 6.6), an id; absent: none. */
export function serveAsOption(value: string | undefined): string | undefined {
  return value === undefined ? undefined : checkFleetId('--serve-as', value);
}

export function checkFleetId(flag: string, value: string): string {
  if (!FLEET_ID_RE.test(value)) {
    throw new UsageError(
      `${flag} "${value}" must be 1-64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit`,
    );
  }
  return value;
}

export function checkDeploymentType(value: string): DeploymentType {
  if ((DEPLOYMENT_TYPES as readonly string[]).includes(value)) return value as DeploymentType;
  throw new UsageError(
    `--deployment-type "${value}" must be one of ${DEPLOYMENT_TYPES.join(', ')}`,
  );
}

export function checkStatus(value: string): string {
  if ((DEPLOYMENT_STATUSES as readonly string[]).includes(value)) return value;
  throw new UsageError(`--status "${value}" must be one of ${DEPLOYMENT_STATUSES.join(', ')}`);
}

function parseDecimal(text: string): number {
  return DECIMAL_RE.test(text.trim()) ? Number(text.trim()) : NaN;
}

/** `5,25,100` -> [5, 25, 100]: increasing percentages (0 < p <= 100) that end at 100. */
export function parseSteps(text: string): number[] {
  const fail = (why: string): never => {
    throw new UsageError(`--steps "${text}" ${why}, e.g. 5,25,100`);
  };
  const steps = text.split(',').map(parseDecimal);
  if (steps.some((step) => Number.isNaN(step))) fail('must be a comma-separated list of numbers');
  if (steps.length > MAX_STEPS) fail(`must have at most ${MAX_STEPS} steps`);
  if (steps.some((step) => step < 0.01 || step > 100)) fail('must be percentages from 0.01 to 100');
  if (steps.some((step, i) => i > 0 && step <= steps[i - 1])) fail('must increase');
  if (steps.at(-1) !== 100) fail('must end at 100');
  return steps;
}

/** `--rate 100 --ramp 5,2,10`: at most 100 a minute, from 5, doubling after every 10 done. */
export function parseRate(rate: string, ramp: string | undefined): CreateDeploymentBody['rate'] {
  const max = parseCount('--rate', rate, 1);
  if (ramp === undefined) return { max_per_minute: max };
  const parts = ramp.split(',').map(parseDecimal);
  const [base, factor, every] = parts;
  if (
    parts.length !== 3 ||
    !Number.isInteger(base) ||
    base! < 1 ||
    !(factor! > 1) ||
    !Number.isInteger(every) ||
    every! < 1
  ) {
    throw new UsageError(
      `--ramp "${ramp}" must be BASE,FACTOR,EVERY (devices a minute to start with, the factor > 1, devices done per increase), e.g. 5,2,10`,
    );
  }
  if (base! > max) throw new UsageError(`--ramp base ${base} must not exceed --rate ${max}`);
  return {
    max_per_minute: max,
    ramp: { base_per_minute: base!, factor: factor!, every_succeeded: every! },
  };
}

/** A share of devices: a number from 0 to 1. */
export function parseShare(flag: string, text: string): number {
  const value = parseDecimal(text);
  if (Number.isNaN(value) || value > 1) {
    throw new UsageError(`${flag} "${text}" must be a number from 0 to 1, e.g. 0.8`);
  }
  return value;
}

/** Whole seconds from `min` to 7 days. */
export function parseSeconds(flag: string, text: string, min: number): number {
  const value = parseCount(flag, text, min);
  if (value > MAX_SECONDS) {
    throw new UsageError(`${flag} "${text}" must be at most ${MAX_SECONDS} (7 days)`);
  }
  return value;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const MAX_DEFERRAL_S = 365 * 86400;

/**
 * A duration as whole seconds (`1800`) or with units (`30m`, `1h30m`, `2d`, `45s`), from 0 to
 * 365 days.
 */
export function parseDuration(flag: string, text: string): number {
  const trimmed = text.trim().toLowerCase();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else if (/^(\d+[smhd])+$/.test(trimmed)) {
    seconds = 0;
    for (const [, n, unit] of trimmed.matchAll(/(\d+)([smhd])/g))
      seconds += Number(n) * DURATION_UNITS[unit!]!;
  } else {
    throw new UsageError(`${flag} "${text}" must be seconds or a duration such as 30m, 1h30m, 2d`);
  }
  if (seconds > MAX_DEFERRAL_S) {
    throw new UsageError(`${flag} "${text}" must be at most 365 days`);
  }
  return seconds;
}

/** The --watch/--wait poll interval in seconds (fractions allowed), returned in milliseconds. */
export function parseInterval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_INTERVAL_S * 1000;
  const value = parseDecimal(text);
  if (Number.isNaN(value) || value < 0.1 || value > 3600) {
    throw new UsageError(`--interval "${text}" must be a number of seconds from 0.1 to 3600`);
  }
  return Math.round(value * 1000);
}

export function checkReason(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (reason.trim() === '') throw new UsageError('--reason must not be empty');
  if (reason.length > MAX_REASON_LENGTH) {
    throw new UsageError(`--reason must be at most ${MAX_REASON_LENGTH} characters`);
  }
  return reason;
}

/** Validates `model deploy` locally and builds the request body; throws UsageError on the first problem. */
export function prepareDeploy(modelId: string, options: DeployCliOptions): CreateDeploymentBody {
  const body: CreateDeploymentBody = {
    model_id: checkModelRef('model', modelId),
    environment: checkFleetId('--environment', options.environment),
    deployment_type: checkDeploymentType(options.deploymentType),
    target: checkFleetId('--target', options.target),
  };
  if (options.serveAs !== undefined) body.serve_as = serveAsOption(options.serveAs);
  if (body.deployment_type !== 'canary') {
    if (options.steps !== undefined) throw new UsageError('--steps needs --deployment-type canary');
    if (options.salt !== undefined) throw new UsageError('--salt needs --deployment-type canary');
    if (options.stepInterval !== undefined) {
      throw new UsageError('--step-interval needs --deployment-type canary');
    }
  }
  if (
    options.steps !== undefined ||
    options.stepInterval !== undefined ||
    options.salt !== undefined
  ) {
    body.canary = {};
    if (options.salt !== undefined) {
      if (options.salt.trim() === '' || options.salt.length > 200) {
        throw new UsageError('--salt must be 1 to 200 characters');
      }
      body.canary.salt = options.salt;
    }
    if (options.steps !== undefined) body.canary.steps = parseSteps(options.steps);
    if (options.stepInterval !== undefined) {
      body.canary.step_interval_s = parseSeconds('--step-interval', options.stepInterval, 0);
    }
  }
  if (options.stagingTimeout !== undefined) {
    body.staging_timeout_s = parseSeconds('--staging-timeout', options.stagingTimeout, 1);
  }
  if (options.deviceTimeout !== undefined) {
    body.device_timeout_s = parseSeconds('--device-timeout', options.deviceTimeout, 1);
  }
  if (options.maxDeferral !== undefined) {
    body.max_deferral_s = parseDuration('--max-deferral', options.maxDeferral);
  }
  if (options.minStagedShare !== undefined) {
    body.min_staged_share = parseShare('--min-staged-share', options.minStagedShare);
  }
  if (options.maxFailureShare !== undefined) {
    body.max_failure_share = parseShare('--max-failure-share', options.maxFailureShare);
  }
  if (options.maxRetries !== undefined) {
    const retries = parseCount('--max-retries', options.maxRetries, 0);
    if (retries > 20)
      throw new UsageError(`--max-retries "${options.maxRetries}" must be at most 20`);
    body.max_retries = retries;
  }
  if (options.rules !== undefined) {
    try {
      checkMetadata(options.rules);
    } catch {
      throw new UsageError('--rules must be a JSON object, e.g. \'{"min_devices":3}\'');
    }
    body.rules = JSON.parse(options.rules) as Record<string, unknown>;
  }
  if (options.observe !== undefined) body.observe_s = parseSeconds('--observe', options.observe, 0);
  if (options.observeInconclusive !== undefined) {
    if (options.observeInconclusive !== 'succeed' && options.observeInconclusive !== 'pause') {
      throw new UsageError(
        `--observe-inconclusive "${options.observeInconclusive}" must be succeed or pause`,
      );
    }
    body.observe_inconclusive = options.observeInconclusive;
  }
  if (options.abort !== undefined) {
    try {
      checkMetadata(options.abort);
    } catch {
      throw new UsageError(
        '--abort must be a JSON object, e.g. \'{"criteria":[{"failure_type":"download","threshold_percent":10}]}\'',
      );
    }
    body.abort = JSON.parse(options.abort) as CreateDeploymentBody['abort'];
  }
  if (options.ramp !== undefined && options.rate === undefined) {
    throw new UsageError('--ramp needs --rate (the most devices a minute)');
  }
  if (options.rate !== undefined) body.rate = parseRate(options.rate, options.ramp);
  if (options.startAt !== undefined) {
    const at = new Date(options.startAt);
    if (!/^\d{4}-\d\d-\d\dT/.test(options.startAt) || Number.isNaN(at.getTime())) {
      throw new UsageError(
        `--start-at "${options.startAt}" must be an ISO 8601 time, e.g. 2026-12-24T22:00:00Z`,
      );
    }
    body.start_at = at.toISOString();
  }
  if (options.autoRollback === false) body.auto_rollback = false;
  if (options.supersede === true) body.supersede = true;
  if (options.overrideGates === true) body.override_gates = true;
  return body;
}

export function prepareDeploymentListQuery(
  options: DeploymentListCliOptions,
): ListDeploymentsQuery {
  const limit = options.limit === undefined ? undefined : parseCount('--limit', options.limit, 1);
  if (limit !== undefined && limit > MAX_PAGE) {
    throw new UsageError(`--limit "${options.limit}" must be at most ${MAX_PAGE}`);
  }
  return {
    status: options.status === undefined ? undefined : checkStatus(options.status),
    environment:
      options.environment === undefined
        ? undefined
        : checkFleetId('--environment', options.environment),
    group: options.group === undefined ? undefined : checkFleetId('--group', options.group),
    modelId:
      options.modelId === undefined ? undefined : checkModelRef('--model-id', options.modelId),
    serveAs:
      options.serveAs === undefined ? undefined : checkFleetId('--serve-as', options.serveAs),
    limit,
    offset: options.offset === undefined ? undefined : parseCount('--offset', options.offset, 0),
  };
}
