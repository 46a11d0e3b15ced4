import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/** The largest offset or count a query accepts: PostgreSQL's integer, far above any real list. */
export const MAX_QUERY_INT = 2_147_483_647;

/**
 * A query parameter's text as an integer: plain decimal digits only (no sign, exponent, hex,
 * spaces or fraction), NaN otherwise, so "1e20", "0x10" or " 10" are refused instead of read.
 */
export function parseQueryInt(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return Number.NaN;
  return Number(value);
}

/**
 * An integer query parameter in [min, max]; every way of missing it gives one message with the
 * range ("limit must be an integer from 1 to 500"), whichever validator notices first.
 */
export function QueryInt(name: string, min: number, max: number) {
  const message = `${name} must be an integer from ${min} to ${max}`;
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      value === undefined ? undefined : parseQueryInt(value),
    ),
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );
}
