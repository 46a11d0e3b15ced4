/**
 * Every MQTT payload of the `sentinel/v1` tree, each defined once with TypeBox: the same definition
 * gives the TypeScript type (`Static`), the runtime validator (TypeCompiler) and the published JSON
 * Schema (docs/protocol/*.json).
 */
import { Type, type Static } from '@sinclair/typebox';
import { LatencyHistogramSchema } from './latency-histogram.js';
import { ID_PATTERN, MAX_MODEL_NAMES } from './topics.js';
import {
  COMMANDS,
  DEPLOYMENT_PHASES,
  FAILURE_REASONS,
  SLOTS,
  STRATEGIES,
} from './protocol-values.js';
import {
  AnyObject,
  DateTime,
  DeviceId,
  ModelName,
  nullable,
  nullableOneOf,
  oneOf,
  Sha256,
  ShortText,
} from './schema-kit.js';

export {
  COMMANDS,
  DEFERRAL_REASONS,
  DEPLOYMENT_PHASES,
  FAILURE_REASONS,
  MAX_PAYLOAD_BYTES,
  SLOTS,
  STRATEGIES,
  type CommandName,
  type DeploymentPhase,
  type FailureReason,
  type Slot,
  type Strategy,
} from './protocol-values.js';

export const ModelRefSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'Model version id in the registry' }),
    name: ShortText(200),
    version: ShortText(100, 'Semantic version'),
    sha256: Sha256,
    size: Type.Integer({ minimum: 0, description: 'Artifact size in bytes' }),
    url: ShortText(
      2048,
      "Where the device downloads the artifact (with the device credential only on the hub's origin)",
    ),
    signature: nullable(
      AnyObject('Sigstore bundle JSON (as written by `cosign sign-blob --bundle`)'),
      'Sigstore bundle, or null for an unsigned model',
    ),
    metadata: Type.Optional(AnyObject('Free-form model metadata (input shape, mAP, ...)')),
  },
  { additionalProperties: false },
);
export type ModelRef = Static<typeof ModelRefSchema>;

export const CohortSchema = Type.Object(
  {
    percent: Type.Number({ minimum: 0, maximum: 100 }),
    salt: ShortText(200),
  },
  { additionalProperties: false },
);
export type Cohort = Static<typeof CohortSchema>;

export const ShadowRequestSchema = Type.Object(
  {
    sample_rate: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'Share of the inferences the serving model makes that the candidate also runs',
    }),
    queue: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description: 'Samples waiting for the candidate at most; more are dropped (counted)',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Shadow verification: a device holding `model` in its standby slot while `previous` serves runs it on a sample of the same inputs, never returning its results, and reports the comparison in its telemetry (`shadow`)',
  },
);
export type ShadowRequest = Static<typeof ShadowRequestSchema>;

export const DesiredStateSchema = Type.Object(
  {
    deployment_id: nullable(ShortText(100)),
    seq: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Increases per topic; a device ignores a message whose seq <= the last it saw',
    }),
    strategy: oneOf(STRATEGIES),
    model: nullable(ModelRefSchema, 'The target model; null means "no model"'),
    previous: nullable(ModelRefSchema, 'The model to fall back to (kept in the standby slot)'),
    activate: oneOf(['new', 'previous'] as const, 'Which of model/previous must serve'),
    cohort: nullable(CohortSchema, 'Canary cohort; null means every device of the group'),
    shadow: Type.Optional(ShadowRequestSchema),
    max_deferral_s: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 365 * 24 * 3600,
        description:
          'How long a device may defer the swap to the new model while its application holds the update lock, counted from when it first deferred this deployment; 0: no deferral. Absent: as long as the lock is held. Never applies to a rollback',
      }),
    ),
    issued_at: DateTime('When the hub issued this state'),
  },
  { additionalProperties: false },
);
export type DesiredState = Static<typeof DesiredStateSchema>;

export const SlotReportSchema = Type.Object(
  {
    model_id: ShortText(100),
    version: ShortText(100),
    sha256: Sha256,
    loaded: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type SlotReport = Static<typeof SlotReportSchema>;

export const DeploymentProgressSchema = Type.Object(
  {
    deployment_id: nullable(ShortText(100)),
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    phase: oneOf(DEPLOYMENT_PHASES),
    reason: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9_]{0,63}$',
        description: `Reason code, e.g. ${FAILURE_REASONS.join(', ')}`,
      }),
    ),
    detail: Type.Optional(Type.String({ maxLength: 2048 })),
    deferred_until: Type.Optional(
      DateTime(
        'With `deferred`: when the device takes the update at the latest (the lock expires or the maximum deferral passes); absent: when the lock is released',
      ),
    ),
    bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    total_bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    in_cohort: Type.Optional(
      Type.Boolean({
        description:
          'Whether the device is in the canary cohort (false: it keeps the previous model)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DeploymentProgress = Static<typeof DeploymentProgressSchema>;

/** What a device reports it can run: compared with a model's requirements before a deployment. */
export const CapabilitiesSchema = Type.Object(
  {
    ort_version: Type.Optional(ShortText(64, 'onnxruntime version the agent runs models with')),
    max_opset: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: 'Highest default-domain (ai.onnx) opset the runtime loads',
      }),
    ),
    execution_providers: Type.Optional(
      Type.Array(ShortText(64), { maxItems: 16, description: 'Execution providers, e.g. cpu' }),
    ),
    arch: Type.Optional(ShortText(32, 'CPU architecture (Node.js process.arch: x64, arm64, ...)')),
    memory_mb: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'Memory in MiB' }),
    ),
    labels: Type.Optional(
      Type.Array(ShortText(128), {
        maxItems: 64,
        description: 'Labels from the agent configuration, e.g. camera:ip67',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Capabilities = Static<typeof CapabilitiesSchema>;

const SlotsSchema = Type.Object(
  { blue: nullable(SlotReportSchema), green: nullable(SlotReportSchema) },
  { additionalProperties: false },
);

/** One named model of a device (not `default`, whose state is the top level of DeviceState). */
export const NamedModelStateSchema = Type.Object(
  {
    active_slot: nullableOneOf(SLOTS),
    slots: SlotsSchema,
    deployment: nullable(DeploymentProgressSchema),
  },
  { additionalProperties: false },
);
export type NamedModelState = Static<typeof NamedModelStateSchema>;

const SERVE_AS_DESCRIPTION =
  'The named model this is about (topics `models/{name}/desired`); absent: `default`';

export const DeviceStateSchema = Type.Object(
  {
    device_id: DeviceId,
    online: Type.Boolean(),
    agent_version: Type.Optional(ShortText(64)),
    ts: DateTime('When the device produced this state'),
    active_slot: Type.Optional(nullableOneOf(SLOTS)),
    slots: Type.Optional(SlotsSchema),
    deployment: Type.Optional(nullable(DeploymentProgressSchema)),
    errors: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 50 })),
    capabilities: Type.Optional(CapabilitiesSchema),
    models: Type.Optional(
      Type.Record(Type.String({ pattern: ID_PATTERN }), NamedModelStateSchema, {
        maxProperties: MAX_MODEL_NAMES,
        additionalProperties: false,
        description:
          'The named models the device serves besides `default` (whose state is the top level), by name',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DeviceState = Static<typeof DeviceStateSchema>;

const NonNegative = Type.Number({ minimum: 0 });

const Percentiles = Type.Object(
  { p50: NonNegative, p95: NonNegative },
  { additionalProperties: false },
);

export const ShadowTelemetrySchema = Type.Object(
  {
    deployment_id: nullable(ShortText(100)),
    model_id: ShortText(100, 'The candidate (standby) model'),
    model_version: ShortText(100),
    comparison: oneOf(
      ['top1', 'boxes', 'cosine'] as const,
      "How outputs were compared (the candidate's metadata shadow.compare)",
    ),
    samples: Type.Integer({ minimum: 0, description: 'Inputs the candidate ran in the window' }),
    dropped: Type.Integer({
      minimum: 0,
      description: 'Sampled inputs left out because the shadow queue was full',
    }),
    errors: Type.Integer({ minimum: 0, description: 'Candidate inferences that failed' }),
    latency_ms: Type.Optional(Percentiles),
    active_latency_ms: Type.Optional(Percentiles),
    agreement: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: "Mean agreement of the candidate's outputs with the serving model's, 0..1",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'The candidate against the serving model on the same inputs (latencies measured on the same samples); absent outside a shadow phase',
  },
);
export type ShadowTelemetry = Static<typeof ShadowTelemetrySchema>;

export const TelemetrySchema = Type.Object(
  {
    device_id: DeviceId,
    ts: DateTime('End of the window'),
    window_s: Type.Number({ exclusiveMinimum: 0, description: 'Window length in seconds' }),
    frames: Type.Integer({ minimum: 0 }),
    fps: NonNegative,
    latency_ms: Type.Object(
      { p50: NonNegative, p95: NonNegative, max: NonNegative },
      { additionalProperties: false },
    ),
    latency_hist: Type.Optional(LatencyHistogramSchema),
    memory_mb: NonNegative,
    errors: Type.Integer({ minimum: 0, description: 'Inference errors in the window' }),
    model_id: nullable(ShortText(100)),
    model_version: nullable(ShortText(100)),
    slot: nullableOneOf(SLOTS),
    deployment_id: nullable(ShortText(100)),
    serve_as: Type.Optional(ModelName(SERVE_AS_DESCRIPTION)),
    map: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'mAP, 0..1' })),
    shadow: Type.Optional(ShadowTelemetrySchema),
  },
  { additionalProperties: false },
);
export type Telemetry = Static<typeof TelemetrySchema>;

export const CommandSchema = Type.Object(
  {
    command: oneOf(COMMANDS),
    id: ShortText(100, 'Unique command id, for de-duplication and correlation'),
    issued_at: DateTime('When the hub issued the command'),
    deployment_id: Type.Optional(nullable(ShortText(100))),
    serve_as: Type.Optional(ModelName(SERVE_AS_DESCRIPTION)),
    reason: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type Command = Static<typeof CommandSchema>;

export const MESSAGE_SCHEMAS = {
  'desired-state': DesiredStateSchema,
  'device-state': DeviceStateSchema,
  telemetry: TelemetrySchema,
  command: CommandSchema,
} as const;

export type MessageKind = keyof typeof MESSAGE_SCHEMAS;
export const MESSAGE_KINDS = Object.keys(MESSAGE_SCHEMAS) as MessageKind[];
export type MessageOf<K extends MessageKind> = Static<(typeof MESSAGE_SCHEMAS)[K]>;
