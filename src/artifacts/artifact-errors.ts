/** More bytes arrived than the caller allowed; nothing was stored. */
export class ArtifactTooLargeError extends Error {
  override readonly name = 'ArtifactTooLargeError';

  constructor(readonly limit: number) {
    super(`artifact exceeds the limit of ${limit} bytes`);
  }
}

export class ArtifactNotFoundError extends Error {
  override readonly name = 'ArtifactNotFoundError';

  constructor(readonly sha256: string) {
    super(`artifact sha256:${sha256} not found`);
  }
}

/** The argument is not 64 lowercase hex characters (also what blocks path traversal). */
export class InvalidArtifactIdError extends Error {
  override readonly name = 'InvalidArtifactIdError';

  constructor(readonly value: unknown) {
    super(`invalid artifact sha256: ${JSON.stringify(String(value)).slice(0, 80)}`);
  }
}

/** A byte range that cannot be served for an object of `size` bytes (HTTP 416). */
export class ArtifactRangeError extends Error {
  override readonly name = 'ArtifactRangeError';

  constructor(
    readonly start: number,
    readonly end: number,
    readonly size: number,
  ) {
    super(`byte range ${start}-${end} is not satisfiable for an artifact of ${size} bytes`);
  }
}
