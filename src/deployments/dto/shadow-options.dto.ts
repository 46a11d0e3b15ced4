// The `shadow` option of POST /api/v1/deployments, validated.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';

export class ShadowOptionsDto {
  @ApiProperty({
    example: 0.1,
    description:
      'Share of the inferences the serving model makes that the candidate also runs on the device, (0, 1].',
  })
  @IsNumber()
  @Min(0.001)
  @Max(1)
  sample_rate: number;

  @ApiProperty({
    example: 300,
    description:
      'Seconds of shadow verification once every online device has staged the candidate; then the rules verdict decides the cutover (canary: the first step).',
  })
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  duration_s: number;

  @ApiPropertyOptional({
    example: 2,
    description:
      "Sampled inputs waiting for the candidate on a device at most; more are dropped (counted). The agent's default (2) when absent.",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  queue?: number;

  @ApiPropertyOptional({
    example: 0.9,
    default: 0.9,
    description:
      "The agreement (0..1) of the candidate's outputs with the serving model's that it must reach (top-1, box IoU or cosine, as the model's metadata `shadow.compare` says).",
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  min_agreement?: number;
}
