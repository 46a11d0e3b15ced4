import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; the message says which field and why.',
  401: 'Missing, invalid or revoked bearer token.',
  403: "The token's role may not make this call.",
  404: 'No such object.',
  409: 'Conflicts with the current state (duplicate, in use).',
  413: 'The upload is larger than MAX_MODEL_BYTES.',
  416: 'The requested range is outside the artifact.',
  503: 'A backing engine (database, storage) is unavailable.',
};

/** Documents the bearer auth and the error responses a route can give, all with ErrorResponseDto. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ApiBearerAuth(),
    ...[401, 403, ...statuses].map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorResponseDto }),
    ),
  );
}
