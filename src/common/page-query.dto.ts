import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { MAX_QUERY_INT, QueryInt } from './query-int.js';

/** `limit` and `offset` of every list endpoint. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @QueryInt('limit', 1, 500)
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', default: 0, minimum: 0, maximum: MAX_QUERY_INT })
  @IsOptional()
  @QueryInt('offset', 0, MAX_QUERY_INT)
  offset?: number;
}
