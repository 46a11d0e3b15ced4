// What the alias routes take and answer.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { QueryInt } from '../../common/query-int.js';
import type { AliasView } from './aliases.service.js';
import type { ModelAliasMove } from './model-alias.entity.js';

export class SetAliasDto {
  @ApiProperty({ example: '2.0.0', description: 'The version of this model the alias points at.' })
  @IsString()
  @MaxLength(128)
  version: string;

  @ApiPropertyOptional({ example: 'won the June evaluation', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class AliasDto {
  @ApiProperty({ example: 'detector' }) model: string;
  @ApiProperty({ example: 'champion' }) alias: string;
  @ApiProperty({ example: '2.0.0' }) version: string;
  @ApiProperty({ format: 'uuid' }) model_id: string;
  @ApiProperty({ example: 'token:release-bot' }) moved_by: string;
  @ApiProperty() moved_at: Date;

  static from(view: AliasView): AliasDto {
    return { ...view };
  }
}

export class AliasListDto {
  @ApiProperty({ type: [AliasDto] }) items: AliasDto[];
  @ApiProperty() total: number;
}

export class ListAliasesQueryDto {
  @ApiPropertyOptional({ example: 'detector', description: 'Only the aliases of this model name.' })
  @IsOptional()
  @IsString()
  model?: string;
}

export class AliasHistoryQueryDto {
  @ApiPropertyOptional({ type: 'integer', default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @QueryInt('limit', 1, 500)
  limit?: number;
}

export class AliasMoveDto {
  @ApiProperty({ example: '1.9.0', nullable: true, type: String, description: 'null: created' })
  from_version: string | null;
  @ApiProperty({ example: '2.0.0', nullable: true, type: String, description: 'null: removed' })
  to_version: string | null;
  @ApiProperty({ example: 'token:release-bot' }) actor: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty() at: Date;

  static from(move: ModelAliasMove): AliasMoveDto {
    return {
      from_version: move.fromVersion,
      to_version: move.toVersion,
      actor: move.actor,
      reason: move.reason,
      at: move.at,
    };
  }
}

export class AliasHistoryDto {
  @ApiProperty({ type: [AliasMoveDto], description: 'Newest first.' }) items: AliasMoveDto[];
}
