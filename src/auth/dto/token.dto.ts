import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';
import { ROLES, type Role } from '../domain/roles.js';
import type { ApiToken } from '../api-token.entity.js';

export class CreateTokenDto {
  @ApiProperty({
    example: 'nightly-ci',
    description: 'A label for the token: who or what uses it.',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'name must be 1-64 characters of letters, digits, ".", "_" and "-"',
  })
  name: string;

  @ApiProperty({
    enum: ROLES,
    description: 'admin: everything; operator: push, deploy, rollback; viewer: read.',
  })
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role: Role;
}

export class TokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ description: 'The first characters of the token, to recognise it.' })
  token_prefix: string;
  @ApiProperty({ nullable: true, type: String }) created_by: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) last_used_at: string | null;

  static from(token: ApiToken): TokenDto {
    return {
      id: token.id,
      name: token.name,
      role: token.role,
      token_prefix: token.tokenPrefix,
      created_by: token.createdBy,
      created_at: token.createdAt.toISOString(),
      last_used_at: token.lastUsedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedTokenDto extends TokenDto {
  @ApiProperty({ description: 'The secret, shown only in this response. Store it now.' })
  token: string;
}
