import { ERROR_STATUS, type ErrorCode } from './domain-error.js';

/** The body of an error response, as DomainErrorFilter writes it. */
export interface ErrorExample {
  statusCode: number;
  error: ErrorCode;
  message: string;
}

const example = (error: ErrorCode, message: string): ErrorExample => ({
  statusCode: ERROR_STATUS[error],
  error,
  message,
});

/** What the hub answers for each documented error status: Swagger shows these per response. */
export const ERROR_EXAMPLES: Record<number, ErrorExample> = {
  400: example('VALIDATION_FAILED', 'version "1.x" is not a valid semantic version (e.g. 1.2.0)'),
  401: example('UNAUTHENTICATED', 'invalid or revoked token'),
  403: example('FORBIDDEN', 'this call needs the operator role; the token has viewer'),
  404: example('NOT_FOUND', 'model 9b2f4c1e-3a5d-4e6f-8a7b-1c2d3e4f5a6b not found'),
  409: example('CONFLICT', 'model yolov8n-traffic@1.4.0 already exists'),
  413: example('PAYLOAD_TOO_LARGE', 'the model is larger than MAX_MODEL_BYTES (2147483648 bytes)'),
  415: example(
    'UNSUPPORTED_MEDIA_TYPE',
    'the body must be JSON (Content-Type: application/json), got "text/plain"',
  ),
  416: example('RANGE_NOT_SATISFIABLE', 'the range is outside the 12582912-byte artifact'),
  503: example('STORAGE_UNAVAILABLE', 'the artifact storage is unavailable; retry later'),
  507: example(
    'INSUFFICIENT_STORAGE',
    "the hub's storage is full; nothing was stored (free space, then retry)",
  ),
};

/** The examples of routes that devices may call (their credential is HTTP Basic). */
export const DEVICE_ERROR_EXAMPLES: Record<number, ErrorExample> = {
  401: example('UNAUTHENTICATED', 'unknown device or wrong device secret'),
};

/** The examples of routes only devices may call. */
export const DEVICE_ONLY_ERROR_EXAMPLES: Record<number, ErrorExample> = {
  401: example(
    'UNAUTHENTICATED',
    'missing device credentials (Authorization: Basic base64(device_id:secret))',
  ),
  403: example(
    'FORBIDDEN',
    'only devices may make this call, with their credential (Authorization: Basic base64(device_id:secret)), not with a token',
  ),
};

/** The example for a status: the route kind's own, else the general one. */
export function errorExample(
  status: number,
  overrides: Record<number, ErrorExample> = {},
): ErrorExample {
  const found = overrides[status] ?? ERROR_EXAMPLES[status];
  if (!found) throw new Error(`no error example for status ${status}`);
  return found;
}
