import { pipeline } from 'node:stream/promises';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  CurrentPrincipal,
  DeviceAccess,
  RequireRole,
  type Principal,
} from '../auth/auth.decorators.js';
import { ApiErrors, ApiErrorsWithDevices } from '../common/api-errors.decorator.js';
import { DomainError } from '../common/domain-error.js';
import { StreamingUpload } from '../common/request-deadline.js';
import { artifactEtag, planArtifactResponse } from './domain/artifact-response.js';
import { formatExtension } from './domain/model-format.js';
import { MODEL_REF_HELP } from './domain/model-ref.js';
import {
  LineageDto,
  ListModelsQueryDto,
  ModelListDto,
  ModelVersionDto,
  PUSH_MODEL_SCHEMA,
  UpdateModelDto,
} from './dto/model.dto.js';
import { RegistryService } from './registry.service.js';

/** The `:id` of every model route: an id or name@version, resolved by RegistryService (400 if neither). */
const ApiModelRef = () =>
  ApiParam({ name: 'id', description: `The model version: ${MODEL_REF_HELP}.` });

@ApiTags('models')
@Controller('api/v1/models')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Post()
  @RequireRole('operator')
  @StreamingUpload()
  @ApiOperation({
    summary: 'Push a model version',
    description:
      'Multipart upload. The file is streamed to storage while it is hashed and its format detected (and its ONNX header parsed). ' +
      'Send the text fields before the file so that a bad name, version or stage is refused before the upload.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: PUSH_MODEL_SCHEMA })
  @ApiCreatedResponse({ type: ModelVersionDto })
  @ApiErrors(400, 409, 413, 507)
  async push(
    @Req() request: Request,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ModelVersionDto> {
    return ModelVersionDto.from(await this.registry.push(request, principal));
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List model versions, newest first (or highest version first)' })
  @ApiOkResponse({ type: ModelListDto })
  @ApiErrors(400)
  async list(@Query() query: ListModelsQueryDto): Promise<ModelListDto> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const { items, total } = await this.registry.list({
      name: query.name,
      stage: query.stage,
      modelType: query.model_type,
      tag: query.tag,
      sort: query.sort ?? 'created',
      limit,
      offset,
    });
    return { items: items.map((model) => ModelVersionDto.from(model)), total, limit, offset };
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiModelRef()
  @ApiOperation({ summary: 'Get one model version' })
  @ApiOkResponse({ type: ModelVersionDto })
  @ApiErrors(400, 404)
  async get(@Param('id') id: string): Promise<ModelVersionDto> {
    return ModelVersionDto.from(await this.registry.get(id));
  }

  @Patch(':id')
  @RequireRole('operator')
  @ApiModelRef()
  @ApiOperation({ summary: 'Change the stage, metadata or tags of a model version' })
  @ApiOkResponse({ type: ModelVersionDto })
  @ApiErrors(400, 404)
  async update(
    @Param('id') id: string,
    @Body() body: UpdateModelDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ModelVersionDto> {
    return ModelVersionDto.from(await this.registry.update(id, body, principal));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiModelRef()
  @ApiOperation({
    summary: 'Delete a model version (its bytes go when no other version shares them)',
  })
  @ApiNoContentResponse()
  @ApiErrors(400, 404, 409)
  async remove(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.registry.delete(id, principal);
  }

  @Get(':id/lineage')
  @RequireRole('viewer')
  @ApiModelRef()
  @ApiOperation({ summary: 'Ancestors and descendants of a model version through parent_id' })
  @ApiOkResponse({ type: LineageDto })
  @ApiErrors(400, 404)
  async lineage(@Param('id') id: string): Promise<LineageDto> {
    const { ancestors, descendants } = await this.registry.lineage(id);
    return {
      ancestors: ancestors.map((model) => ModelVersionDto.from(model)),
      descendants: descendants.map((model) => ModelVersionDto.from(model)),
    };
  }

  @Get(':id/artifact')
  @RequireRole('viewer')
  // Devices download with their own credential, and may download ANY model, not only one their
  // group's desired state names. Models are not secret from the fleet (any viewer token reads them
  // all), and integrity does not rest on who may download: agents check the sha256 and the Sigstore
  // signature against their own keys. Tying downloads to the desired state would also race every
  // rollout (a device fetching while its group's state changes, a rollback to `previous`) for no
  // gain. Revisit if models ever become confidential per group.
  @DeviceAccess()
  @ApiModelRef()
  @ApiOperation({
    summary: 'Download the model file',
    description:
      'Supports Range (single range), If-Range and If-None-Match; the ETag is the quoted sha256. ' +
      'Devices download with their credential (HTTP Basic: device id and secret), any model.',
  })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The whole file.', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({
    status: 206,
    description: 'The requested byte range.',
    schema: { type: 'string', format: 'binary' },
  })
  @ApiResponse({ status: 304, description: 'If-None-Match matched the ETag.' })
  @ApiErrorsWithDevices(400, 404, 416)
  async artifact(
    @Param('id') id: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const model = await this.registry.get(id);
    const plan = planArtifactResponse(model.size, model.sha256, {
      range: request.get('range'),
      ifNoneMatch: request.get('if-none-match'),
      ifRange: request.get('if-range'),
    });
    response.setHeader('ETag', artifactEtag(model.sha256));
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('X-Content-SHA256', model.sha256);
    if (plan.status === 304) {
      response.status(304).end();
      return;
    }
    if (plan.status === 416) {
      response.setHeader('Content-Range', `bytes */${model.size}`);
      throw new DomainError(
        'RANGE_NOT_SATISFIABLE',
        `the range is outside the ${model.size}-byte artifact`,
      );
    }
    const range = plan.status === 206 ? plan.range : undefined;
    const stream = await this.registry.openArtifact(model, range);
    response.status(plan.status);
    response.setHeader('Content-Type', 'application/octet-stream');
    response.setHeader(
      'Content-Disposition',
      `attachment; filename="${model.name}-${model.version}.${formatExtension(model.format)}"`,
    );
    response.setHeader('Content-Length', String(range ? range.end - range.start + 1 : model.size));
    if (range)
      response.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${model.size}`);
    try {
      await pipeline(stream, response);
    } catch (error) {
      // A client that stops reading (a device resuming later with Range) is normal, not a hub error.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
    }
  }
}
