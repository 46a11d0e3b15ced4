import parseRange from 'range-parser';
import type { ByteRange } from '../../artifacts/artifact-store.js';

export type ArtifactResponsePlan =
  { status: 200 } | { status: 206; range: ByteRange } | { status: 304 } | { status: 416 };

export interface ConditionalHeaders {
  range?: string;
  ifNoneMatch?: string;
  ifRange?: string;
}

/** The strong ETag of an artifact is its sha256: the bytes cannot change under it. */
export function artifactEtag(sha256: string): string {
  return `"${sha256}"`;
}

function etagListMatches(list: string, etag: string): boolean {
  return list
    .split(',')
    .map((item) => item.trim().replace(/^W\//, ''))
    .some((item) => item === '*' || item === etag);
}

/** Decides the response to a GET of an artifact of `size` bytes (RFC 9110 sections 13.1.2, 13.1.5, 14.2). */
export function planArtifactResponse(
  size: number,
  sha256: string,
  headers: ConditionalHeaders,
): ArtifactResponsePlan {
  const etag = artifactEtag(sha256);
  if (headers.ifNoneMatch && etagListMatches(headers.ifNoneMatch, etag)) return { status: 304 };
  if (!headers.range) return { status: 200 };
  // If-Range with another validator: the client's partial copy is stale, so send everything.
  if (headers.ifRange && headers.ifRange.trim() !== etag) return { status: 200 };
  const ranges = parseRange(size, headers.range, { combine: true });
  if (ranges === -1) return { status: 416 };
  // -2 is a malformed header, which RFC 9110 says to ignore; several ranges are served whole.
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return { status: 200 };
  return { status: 206, range: { start: ranges[0].start, end: ranges[0].end } };
}
