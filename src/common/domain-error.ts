/**
 * Error codes shared by the API (mapped to HTTP statuses in one filter), the CLI's messages and,
 * later, the agents' reports. Services throw DomainError; they never throw HTTP exceptions.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  NOT_ONNX: 400,
  /** The declared framework contradicts the format detected from the file's bytes. */
  FORMAT_MISMATCH: 400,
  /** A deployment or pin of a model format the edge agents cannot run. */
  NOT_DEPLOYABLE: 400,
  EMPTY_FILE: 400,
  INVALID_SIGNATURE: 400,
  SIGNATURE_REQUIRED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** A deployment none of whose target devices can run the model (their reported capabilities). */
  INCOMPATIBLE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  STORAGE_UNAVAILABLE: 503,
  INSUFFICIENT_STORAGE: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const validationFailed = (message: string) => new DomainError('VALIDATION_FAILED', message);
export const notFound = (what: string, id: string) =>
  new DomainError('NOT_FOUND', `${what} ${id} not found`);
