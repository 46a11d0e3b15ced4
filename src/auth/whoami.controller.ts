import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { CurrentPrincipal, RequireRole, type Principal } from './auth.decorators.js';
import { ROLES, type Role } from './domain/roles.js';

export class WhoamiDto {
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: "The token's id (as in GET /api/v1/tokens); null for the hub's ADMIN_TOKEN.",
  })
  token_id: string | null;

  @ApiProperty({ example: 'nightly-ci' }) name: string;
  @ApiProperty({ enum: ROLES }) role: Role;

  static from(principal: Principal): WhoamiDto {
    return {
      token_id: principal.fromEnvironment ? null : principal.tokenId,
      name: principal.name,
      role: principal.role,
    };
  }
}

@ApiTags('tokens')
@Controller('api/v1/whoami')
export class WhoamiController {
  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'The token this call was made with: its id, name and role (what a client may show)',
  })
  @ApiOkResponse({ type: WhoamiDto })
  @ApiErrors()
  whoami(@CurrentPrincipal() principal: Principal): WhoamiDto {
    return WhoamiDto.from(principal);
  }
}
