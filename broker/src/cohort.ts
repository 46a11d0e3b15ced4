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
  const digest = createHash('sha256').update(`${salt}:${deviceId}`, 'utf8').digest();
  return digest.readUInt32BE(0) % COHORT_BUCKETS;
}

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
