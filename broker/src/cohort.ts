import { createHash } from 'node:crypto';

/** Number of buckets: a cohort percentage has a resolution of 0.01 %. */
export const COHORT_BUCKETS = 10_000;

/**
 * The device's bucket for a salt, in [0, 9999]:
 *
 *   digest = SHA-256(UTF-8(salt + ":" + deviceId))
 *   bucket = (big-endian unsigned 32-bit integer of digest[0..3]) mod 10000
 *
 * Example (asserted by cohort.spec.ts, documented in docs/protocol.md):
 * `cohortBucket('canary-2024', 'cam-0001')` is 5445 (digest starts e233cc45 =
 * 3795045445), so cam-0001 is in a 60 % cohort with that salt and not in a 50 % one.
 */
export function cohortBucket(salt: string, deviceId: string): number {
  const key = `${salt}:${deviceId}`;
  let bucket = buckets.get(key);
  if (bucket === undefined) {
    bucket = createHash('sha256').update(key, 'utf8').digest().readUInt32BE(0) % COHORT_BUCKETS;
    if (buckets.size >= MAX_REMEMBERED_BUCKETS) buckets.clear();
    buckets.set(key, bucket);
  }
  return bucket;
}

/**
 * Buckets already computed: the hub's rollout loop asks for every device of a canary on every
 * pass, and a SHA-256 each (10,000 per pass) was 8 % of the hub's CPU in bench/rollback.
 */
const buckets = new Map<string, number>();
const MAX_REMEMBERED_BUCKETS = 200_000;

/**
 * Whether a device belongs to a canary cohort: always when `cohort` is null, otherwise iff
 * `cohortBucket(salt, deviceId) < round(percent * 100)`. Growing the percentage with the same salt
 * only adds devices, so a device in the 25 % cohort is also in the 50 % one.
 */
export function inCohort(
  deviceId: string,
  cohort: { percent: number; salt: string } | null,
): boolean {
  if (cohort === null) return true;
  return cohortBucket(cohort.salt, deviceId) < Math.round(cohort.percent * 100);
}
