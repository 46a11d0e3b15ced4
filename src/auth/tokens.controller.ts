import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from './auth.decorators.js';
import { CreatedTokenDto, CreateTokenDto, TokenDto } from './dto/token.dto.js';
import { TokensService } from './tokens.service.js';

@ApiTags('tokens')
@Controller('api/v1/tokens')
@RequireRole('admin')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API token with a role; the secret is in this response only' })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiErrors(400)
  async create(
    @Body() body: CreateTokenDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CreatedTokenDto> {
    const { token, secret } = await this.tokens.create(body.name, body.role, actorOf(principal));
    return { ...TokenDto.from(token), token: secret };
  }

  @Get()
  @ApiOperation({ summary: 'List API tokens (never their secrets)' })
  @ApiOkResponse({ type: [TokenDto] })
  @ApiErrors()
  async list(): Promise<TokenDto[]> {
    return (await this.tokens.list()).map((token) => TokenDto.from(token));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API token' })
  @ApiNoContentResponse()
  @ApiErrors(400, 404, 409)
  async remove(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.tokens.delete(id, principal);
  }
}
