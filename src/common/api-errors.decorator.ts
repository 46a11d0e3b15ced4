import { applyDecorators } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiExtraModels,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import {
  DEVICE_ERROR_EXAMPLES,
  DEVICE_ONLY_ERROR_EXAMPLES,
  errorExample,
  type ErrorExample,
} from './error-examples.js';
import { ErrorResponseDto } from './error-response.dto.js';

/** The OpenAPI security scheme of the device credential (app.factory.ts declares it). */
export const DEVICE_AUTH_SCHEME = 'device';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; the message says which field and why.',
  401: 'Missing, invalid or revoked bearer token.',
  403: "The token's role may not make this call.",
  404: 'No such object.',
  409: 'Conflicts with the current state (duplicate, in use).',
  413: 'The upload is larger than MAX_MODEL_BYTES.',
  415: 'The body is not of a type the route reads (JSON routes: application/json).',
  416: 'The requested range is outside the artifact.',
  503: 'A backing engine (database, storage) is unavailable.',
  507: "The hub's storage is full; nothing was stored.",
};

const WITH_DEVICES: Record<number, string> = {
  401: 'Missing or invalid credentials: a bearer token that is invalid or revoked, or a device credential (Basic) with an unknown device id or a wrong secret.',
  403: "The token's role may not make this call (devices may).",
};

const DEVICES_ONLY: Record<number, string> = {
  401: 'Missing device credential, or an unknown device id or wrong secret.',
  403: 'A bearer token: only devices make this call.',
};

function responses(
  statuses: number[],
  overrides: Record<number, string> = {},
  examples: Record<number, ErrorExample> = {},
) {
  const documented = [401, 403, ...statuses].map((status) =>
    ApiResponse({
      status,
      description: overrides[status] ?? DESCRIPTIONS[status],
      // JSON whatever the route produces (a download's errors too), with the status's own example:
      // without it Swagger shows the schema's (a 400) under every status.
      content: {
        'application/json': {
          schema: { $ref: getSchemaPath(ErrorResponseDto) },
          example: errorExample(status, examples),
        },
      },
    }),
  );
  return [ApiExtraModels(ErrorResponseDto), ...documented];
}

/** Documents the bearer auth and the error responses a route can give, all with ErrorResponseDto. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(ApiBearerAuth(), ...responses(statuses));
}

/** ApiErrors for a @DeviceAccess route: a bearer token with the route's role, or a device credential. */
export function ApiErrorsWithDevices(...statuses: number[]) {
  return applyDecorators(
    ApiBearerAuth(),
    ApiBasicAuth(DEVICE_AUTH_SCHEME),
    ...responses(statuses, WITH_DEVICES, DEVICE_ERROR_EXAMPLES),
  );
}

/** ApiErrors for a @DeviceOnly route: the device credential and nothing else. */
export function ApiErrorsDevicesOnly(...statuses: number[]) {
  return applyDecorators(
    ApiBasicAuth(DEVICE_AUTH_SCHEME),
    ...responses(statuses, DEVICES_ONLY, DEVICE_ONLY_ERROR_EXAMPLES),
  );
}
