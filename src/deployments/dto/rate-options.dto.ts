// The `rate` option of POST /api/v1/deployments, validated (domain/rate.ts decides).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, Max, Min, ValidateNested } from 'class-validator';

export class RampOptionsDto {
  @ApiProperty({ example: 5, description: 'Devices per minute at the start.' })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  base_per_minute: number;

  @ApiProperty({
    example: 2,
    description: 'The rate is multiplied by this after every `every_succeeded` devices done.',
  })
  @IsNumber()
  @Min(1.01)
  @Max(100)
  factor: number;

  @ApiProperty({
    example: 10,
    description: 'Devices done (staged or active) per increase of the rate.',
  })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  every_succeeded: number;
}

export class RateOptionsDto {
  @ApiProperty({
    example: 100,
    description:
      'At most this many devices are notified (told to download) in any 60 seconds, spread evenly; the blue/green cutover and rollbacks are never limited.',
  })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_per_minute: number;

  @ApiPropertyOptional({
    type: RampOptionsDto,
    description:
      'An exponential ramp: start at base_per_minute and multiply by factor after every every_succeeded devices done, up to max_per_minute.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => RampOptionsDto)
  ramp?: RampOptionsDto;
}
