import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole, type Principal } from '../../auth/auth.decorators.js';
import { ApiErrors } from '../../common/api-errors.decorator.js';
import {
  AliasDto,
  AliasHistoryDto,
  AliasHistoryQueryDto,
  AliasListDto,
  AliasMoveDto,
  ListAliasesQueryDto,
  SetAliasDto,
} from './alias.dto.js';
import { AliasesService } from './aliases.service.js';

const ApiAliasParams = () =>
  applyDecorators(
    ApiParam({ name: 'model', description: 'The model name, e.g. detector.' }),
    ApiParam({
      name: 'alias',
      description: 'The alias: a-z, 0-9, "_" and "-", starting with a letter, e.g. champion.',
    }),
  );

@ApiTags('models')
@Controller('api/v1/aliases')
export class AliasesController {
  constructor(private readonly aliases: AliasesService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'List model aliases (e.g. detector@champion) and the versions they point at',
  })
  @ApiOkResponse({ type: AliasListDto })
  @ApiErrors(400)
  async list(@Query() query: ListAliasesQueryDto): Promise<AliasListDto> {
    const items = await this.aliases.list(query.model);
    return { items: items.map((a) => AliasDto.from(a)), total: items.length };
  }

  @Get(':model/:alias')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Get one alias' })
  @ApiAliasParams()
  @ApiOkResponse({ type: AliasDto })
  @ApiErrors(400, 404)
  async get(@Param('model') model: string, @Param('alias') alias: string): Promise<AliasDto> {
    return AliasDto.from(await this.aliases.get(model, alias));
  }

  @Put(':model/:alias')
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Point an alias at a version of its model (creates or moves it)',
    description:
      'Every move is kept in the alias history and the audit log. A reference such as `detector@champion` resolves when it is used: a deployment created through it records the version it got.',
  })
  @ApiAliasParams()
  @ApiOkResponse({ type: AliasDto })
  @ApiErrors(400, 404)
  async set(
    @Param('model') model: string,
    @Param('alias') alias: string,
    @Body() body: SetAliasDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AliasDto> {
    const view = await this.aliases.set(model, alias, body.version, body.reason ?? null, principal);
    return AliasDto.from(view);
  }

  @Delete(':model/:alias')
  @HttpCode(204)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Remove an alias (its history stays)' })
  @ApiAliasParams()
  @ApiNoContentResponse()
  @ApiErrors(400, 404)
  async remove(
    @Param('model') model: string,
    @Param('alias') alias: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.aliases.remove(model, alias, null, principal);
  }

  @Get(':model/:alias/history')
  @RequireRole('viewer')
  @ApiOperation({
    summary: "An alias's moves, newest first: who moved it, when, from and to which version",
  })
  @ApiAliasParams()
  @ApiOkResponse({ type: AliasHistoryDto })
  @ApiErrors(400, 404)
  async history(
    @Param('model') model: string,
    @Param('alias') alias: string,
    @Query() query: AliasHistoryQueryDto,
  ): Promise<AliasHistoryDto> {
    const moves = await this.aliases.history(model, alias, query.limit ?? 50);
    return { items: moves.map((move) => AliasMoveDto.from(move)) };
  }
}
