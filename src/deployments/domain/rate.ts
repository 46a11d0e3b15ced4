/**
 * The notification rate of a deployment, as pure functions: at most N devices notified per minute,
 * optionally ramping up exponentially (a base rate, multiplied by a factor after every K devices
 * done), up to N.
 *
 * Devices are notified through the group's retained desired state, so the hub cannot address one
 * device at a time; it grows the desired state's cohort instead. Each device has a fixed bucket
 * (`cohortBucket(salt, id)`, 0..9999) and the cohort holds the devices whose bucket is below a
 * threshold (percent x 100). Admitting devices means raising the threshold past their buckets, in
 * bucket order, never further than the allowance: the devices already notified stay in.
 */
export interface RatePolicy {
  /** At most this many devices notified in any 60 seconds. */
  maxPerMinute: number;
  /** Start at `basePerMinute`, times `factor` after every `everySucceeded` devices done. */
  ramp?: { basePerMinute: number; factor: number; everySucceeded: number };
}

/** Devices notified at one moment (rounded up to the second: an entry leaves the window late). */
export interface AdmissionEntry {
  at: string;
  n: number;
}

/** Where the admission stands: the cohort threshold so far, the pace, the last minute's admissions. */
export interface Admission {
  /** The published cohort's percentage: devices with a bucket below percent x 100 are notified. */
  percent: number;
  /** When the next device is due at the current rate (null: at once). */
  paceAt: string | null;
  /** Admissions of the last 60 s, one entry per second at most. */
  log: AdmissionEntry[];
}

/** Where a rate-limited deployment starts: nobody notified. */
export const NO_ADMISSION: Admission = { percent: 0, paceAt: null, log: [] };

const WINDOW_MS = 60_000;
/** Pace credit a quiet spell builds up: at most one second's worth of devices at once. */
const CREDIT_MS = 1000;

/** A problem with the policy for a 400, or null. */
export function checkRatePolicy(policy: RatePolicy): string | null {
  if (!Number.isInteger(policy.maxPerMinute) || policy.maxPerMinute < 1)
    return 'rate.max_per_minute must be a whole number of at least 1';
  const ramp = policy.ramp;
  if (!ramp) return null;
  if (ramp.basePerMinute > policy.maxPerMinute)
    return `rate.ramp.base_per_minute (${ramp.basePerMinute}) must not exceed rate.max_per_minute (${policy.maxPerMinute})`;
  if (!(ramp.factor > 1)) return 'rate.ramp.factor must be more than 1';
  return null;
}

/** Devices per minute now, after `succeeded` devices are done. */
export function currentRate(policy: RatePolicy, succeeded: number): number {
  const ramp = policy.ramp;
  if (!ramp) return policy.maxPerMinute;
  const increases = Math.floor(succeeded / ramp.everySucceeded);
  // factor^increases overflows to Infinity for long ramps: min() still gives the cap.
  return Math.min(policy.maxPerMinute, Math.floor(ramp.basePerMinute * ramp.factor ** increases));
}

/**
 * How many more devices may be notified at `now`: `window` is what the last 60 s leave of the
 * per-minute budget (a hard limit); `paced` spreads the budget evenly (one device every 60/rate
 * seconds from `paceAt`, with at most one second of credit), so that it is not spent in one burst.
 */
export function allowance(
  rate: number,
  admission: Pick<Admission, 'log' | 'paceAt'>,
  now: Date,
): { window: number; paced: number } {
  const recent = admission.log.filter((e) => now.getTime() - Date.parse(e.at) < WINDOW_MS);
  const window = Math.max(0, rate - recent.reduce((sum, e) => sum + e.n, 0));
  const due = admission.paceAt === null ? now.getTime() : Date.parse(admission.paceAt);
  if (now.getTime() < due) return { window, paced: 0 };
  const since = Math.max(due, now.getTime() - CREDIT_MS);
  const paced = 1 + Math.floor(((now.getTime() - since) * rate) / WINDOW_MS);
  return { window, paced: Math.min(window, paced) };
}

export interface AdmitInput {
  policy: RatePolicy;
  admission: Admission;
  /** Buckets (`cohortBucket(salt, id)`) of every target device. */
  buckets: readonly number[];
  /** The step's percentage (100 for blue/green): the threshold never passes it. */
  stepPercent: number;
  /** Devices done (staged, active) so far: what the ramp counts. */
  succeeded: number;
  now: Date;
}

export interface AdmitResult {
  admission: Admission;
  /** Devices notified by this call. */
  added: number;
  /** Target devices inside the step's cohort, and those of them notified so far. */
  inStep: number;
  notified: number;
  /** Devices per minute now. */
  rate: number;
}

/**
 * Raises the threshold by as many devices (in bucket order) as the allowance lets through. Devices
 * sharing a bucket go in together: when they are more than the paced allowance they go once the
 * pace is due and the minute's budget holds all of them (the pace then waits for them). The one
 * exception to the limit: a tie bigger than the whole per-minute limit (e.g. two devices in one
 * bucket at 1/min) goes alone in a minute with nothing else, rather than never.
 */
export function admit(input: AdmitInput): AdmitResult {
  const { admission, now } = input;
  const stepThreshold = Math.round(input.stepPercent * 100);
  const threshold = Math.min(Math.round(admission.percent * 100), stepThreshold);
  const sorted = input.buckets.filter((b) => b < stepThreshold).sort((a, b) => a - b);
  const notified = sorted.filter((b) => b < threshold).length;
  const rate = currentRate(input.policy, input.succeeded);
  const log = admission.log.filter((e) => now.getTime() - Date.parse(e.at) < WINDOW_MS);
  const result = (percent: number, added: number, paceAt: string | null): AdmitResult => ({
    admission: { percent, paceAt, log: added > 0 ? logged(log, added, now) : log },
    added,
    inStep: sorted.length,
    notified: notified + added,
    rate,
  });
  // Every device of the step is in: open the cohort to the step (devices that join later too).
  if (notified === sorted.length) return result(stepThreshold / 100, 0, admission.paceAt);
  const { window, paced } = allowance(rate, admission, now);
  let next = notified;
  while (next < sorted.length && paced > 0) {
    // The whole tie group of sorted[next] goes in, or none of it.
    let end = next + 1;
    while (end < sorted.length && sorted[end] === sorted[next]) end += 1;
    const total = end - notified;
    // A tie bigger than the whole limit would never fit: it goes alone, in a minute of its own.
    const alone = next === notified && window === rate;
    if ((total > window && !alone) || (next > notified && total > paced)) break;
    next = end;
    if (total >= paced) break;
  }
  const added = next - notified;
  if (added === 0) return result(threshold / 100, 0, admission.paceAt);
  const percent = next === sorted.length ? stepThreshold / 100 : (sorted[next - 1]! + 1) / 100;
  const due = admission.paceAt === null ? now.getTime() : Date.parse(admission.paceAt);
  const paceAt = Math.max(due, now.getTime() - CREDIT_MS) + (added * WINDOW_MS) / rate;
  return result(percent, added, new Date(paceAt).toISOString());
}

/** The log with `n` more at `now` (rounded up to the second), one entry per second. */
function logged(log: readonly AdmissionEntry[], n: number, now: Date): AdmissionEntry[] {
  const second = new Date(Math.ceil(now.getTime() / 1000) * 1000).toISOString();
  const last = log.at(-1);
  if (last?.at === second) return [...log.slice(0, -1), { at: second, n: last.n + n }];
  return [...log, { at: second, n }];
}
