import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsObject, IsOptional, IsString, Matches } from 'class-validator';
import { EXAMPLE_UUID } from '../../common/openapi-examples.js';
import { PageQueryDto } from '../../common/page-query.dto.js';
import { MODEL_FORMATS, type ModelFormat } from '../domain/model-format.js';
import { STAGES, type Stage } from '../domain/model-rules.js';
import type { ModelVersion } from '../model-version.entity.js';

export class OnnxTensorDto {
  @ApiProperty({ example: 'images' }) name: string;
  @ApiProperty({ example: 'FLOAT' }) elem_type: string;
  @ApiProperty({
    example: [1, 3, 640, 640],
    description: 'Dimensions; a string is a symbolic dimension, null an unknown one.',
    type: 'array',
    items: { oneOf: [{ type: 'integer' }, { type: 'string' }], nullable: true },
  })
  shape: (number | string | null)[];
}

export class OnnxOpsetDto {
  @ApiProperty({ example: '' }) domain: string;
  @ApiProperty({ example: 17 }) version: number;
}

export class OnnxHeaderDto {
  @ApiProperty({ example: 8 }) ir_version: number;
  @ApiProperty({ example: 17, description: 'Opset of the default ONNX domain.' }) opset: number;
  @ApiProperty({ type: [OnnxOpsetDto] }) opsets: OnnxOpsetDto[];
  @ApiProperty({ example: 'pytorch' }) producer_name: string;
  @ApiProperty({ example: '2.3.0' }) producer_version: string;
  @ApiProperty() domain: string;
  @ApiProperty() model_version: number;
  @ApiProperty() graph_name: string;
  @ApiProperty({ type: [OnnxTensorDto] }) inputs: OnnxTensorDto[];
  @ApiProperty({ type: [OnnxTensorDto] }) outputs: OnnxTensorDto[];
  @ApiProperty({ example: 3151904, description: 'Sum of the element counts of all initializers.' })
  parameter_count: number;
  @ApiProperty() initializer_count: number;
  @ApiProperty() node_count: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata_props: Record<
    string,
    string
  >;
}

export class SignatureInfoDto {
  @ApiProperty({
    description:
      'Hint of the key that signed: base64(sha256(DER public key)), as cosign writes it.',
  })
  key_hint: string;
  @ApiProperty({ enum: ['message_signature', 'dsse'] }) kind: string;
  @ApiProperty() bundle_media_type: string;
  @ApiProperty({ format: 'date-time' }) verified_at: string;
}

export class ModelVersionDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_UUID }) id: string;
  @ApiProperty({ example: 'yolov8n-traffic' }) name: string;
  @ApiProperty({
    example: '1.4.0',
    description: 'As pushed: a semantic version, a nightly date (20261206) or CalVer (2026.12.6).',
  })
  version: string;
  @ApiProperty({ example: 'object-detection' }) model_type: string;
  @ApiProperty({ example: 'onnx', description: 'As declared by the push.' }) framework: string;
  @ApiProperty({
    enum: MODEL_FORMATS,
    description:
      'The file format detected from the bytes. Only onnx models can be deployed to the agents.',
  })
  format: ModelFormat;
  @ApiProperty({ enum: STAGES }) stage: Stage;
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  sha256: string;
  @ApiProperty({ example: 12582912, description: 'Bytes.' }) size: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { map: 0.62, dataset: 'coco-2017' },
  })
  metadata: Record<string, unknown>;
  @ApiProperty({
    type: OnnxHeaderDto,
    nullable: true,
    description: 'The ONNX header; null for other formats.',
  })
  onnx: OnnxHeaderDto | null;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) parent_id: string | null;
  @ApiProperty({ type: SignatureInfoDto, nullable: true }) signature: SignatureInfoDto | null;
  @ApiProperty() created_by: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(model: ModelVersion): ModelVersionDto {
    return {
      id: model.id,
      name: model.name,
      version: model.version,
      model_type: model.modelType,
      framework: model.framework,
      format: model.format,
      stage: model.stage,
      sha256: model.sha256,
      size: model.size,
      metadata: model.metadata,
      onnx: model.onnx,
      tags: model.tags,
      parent_id: model.parentId,
      signature: model.signature,
      created_by: model.createdBy,
      created_at: model.createdAt.toISOString(),
      updated_at: model.updatedAt.toISOString(),
    };
  }
}

export class ModelListDto {
  @ApiProperty({ type: [ModelVersionDto] }) items: ModelVersionDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class LineageDto {
  @ApiProperty({
    type: [ModelVersionDto],
    description: 'Parent first, then its parent, up to the root.',
  })
  ancestors: ModelVersionDto[];
  @ApiProperty({
    type: [ModelVersionDto],
    description: 'Children, grandchildren, ... in breadth-first order.',
  })
  descendants: ModelVersionDto[];
}

export const MODEL_SORTS = ['created', 'version'] as const;
export type ModelSort = (typeof MODEL_SORTS)[number];

export class ListModelsQueryDto extends PageQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() name?: string;
  @ApiPropertyOptional({ enum: STAGES })
  @IsOptional()
  @IsIn(STAGES, { message: `stage must be one of ${STAGES.join(', ')}` })
  stage?: Stage;
  @ApiPropertyOptional() @IsOptional() @IsString() model_type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() tag?: string;
  @ApiPropertyOptional({
    enum: MODEL_SORTS,
    default: 'created',
    description:
      'created: newest push first; version: highest version first (semver precedence, nightly dates and CalVer by their numbers).',
  })
  @IsOptional()
  @IsIn(MODEL_SORTS, { message: `sort must be one of ${MODEL_SORTS.join(', ')}` })
  sort?: ModelSort;
}

export class UpdateModelDto {
  @ApiPropertyOptional({ enum: STAGES })
  @IsOptional()
  @IsIn(STAGES, { message: `stage must be one of ${STAGES.join(', ')}` })
  stage?: Stage;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Merged into the metadata; a key set to null is removed.',
    example: { map: 0.64, evaluated_on: 'coco-2017-val' },
  })
  @IsOptional()
  @IsObject({ message: 'metadata must be a JSON object' })
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: [String],
    description: 'Replaces the tags.',
    example: ['traffic', 'night'],
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, {
    each: true,
    message: 'each tag must be 1-64 characters of letters, digits and . _ : / -',
  })
  tags?: string[];
}

/** Documents the multipart push for Swagger; the body itself is streamed, never bound to this class. */
export const PUSH_MODEL_SCHEMA = {
  type: 'object',
  required: ['file', 'name', 'version', 'model_type', 'framework', 'stage'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,127}$', example: 'yolov8n-traffic' },
    version: {
      type: 'string',
      description:
        'A semantic version (1.4.0), a nightly date (20261206) or a calendar version (2026.12.6)',
      example: '1.4.0',
    },
    model_type: { type: 'string', example: 'object-detection' },
    framework: {
      type: 'string',
      example: 'onnx',
      description:
        'onnx, pytorch, tensorflow, tflite, ... It must agree with the file: "onnx" requires ONNX bytes',
    },
    stage: { type: 'string', enum: [...STAGES] },
    metadata: {
      type: 'string',
      description: 'A JSON object, e.g. {"map": 0.62, "dataset": "coco-2017"}',
      example: '{"map": 0.62, "dataset": "coco-2017"}',
    },
    tags: { type: 'string', description: 'Comma-separated tags', example: 'traffic,night' },
    parent_id: {
      type: 'string',
      format: 'uuid',
      description: 'The id of the version this one was trained from; leave empty for none',
      // Empty, so that Swagger UI's "Try it out" does not pre-fill a made-up UUID (an unknown parent).
      example: '',
    },
    signature: {
      type: 'string',
      format: 'binary',
      description: 'A Sigstore bundle (JSON) over the model file',
    },
    file: {
      type: 'string',
      format: 'binary',
      description:
        'The model file (ONNX, PyTorch/TorchScript, TFLite, SavedModel archive, safetensors, ...); send it as the last part',
    },
  },
};
