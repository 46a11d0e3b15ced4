import { ApiProperty } from '@nestjs/swagger';
import { ERROR_STATUS } from './domain-error.js';

export class ErrorResponseDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ enum: [...Object.keys(ERROR_STATUS), 'INTERNAL'], example: 'VALIDATION_FAILED' })
  error: string;
  @ApiProperty({ example: 'version "1.x" is not a semantic version (e.g. 1.2.0)' })
  message: string;
}
