/** errno codes of a filesystem that has no room left: no space, or the user's quota spent. */
const FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT']);
/** PostgreSQL's disk_full (class 53, insufficient resources). */
const PG_DISK_FULL = '53100';
/** What S3 servers answer when they cannot store more (MinIO; AWS never runs out). */
const S3_FULL = new Set(['XMinioStorageFull', 'XMinioAdminBucketQuotaExceeded']);

/**
 * Whether an error, or one it wraps (`cause`, TypeORM's `driverError`), says the storage is full:
 * a condition of the hub, not of the request, answered 507 with a message instead of a bare 500.
 */
export function isStorageFull(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code } = current as { code?: unknown };
    if (
      typeof code === 'string' &&
      (FULL_ERRNO.has(code) || code === PG_DISK_FULL || S3_FULL.has(code))
    )
      return true;
    const next = current as { driverError?: unknown; cause?: unknown };
    current = next.driverError ?? next.cause;
  }
  return false;
}
