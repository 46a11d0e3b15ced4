import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, QueryFailedError, type EntityManager, type Repository } from 'typeorm';
import type { ArtifactStore, ByteRange, StoredArtifact } from '../artifacts/artifact-store.js';
import { ARTIFACT_STORE } from '../artifacts/artifacts.module.js';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError, notFound, validationFailed } from '../common/domain-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SigningService } from '../signing/signing.service.js';
import {
  checkLabel,
  checkMetadataSize,
  mergeMetadata,
  checkModelName,
  checkStage,
  checkTags,
  checkVersion,
  parseMetadata,
  parseTags,
  UUID_PATTERN,
  type Problem,
  type Stage,
} from './domain/model-rules.js';
import { checkFrameworkFormat } from './domain/model-format.js';
import { requirementsProblem } from './domain/requirements.js';
import { versionSortKey } from './domain/versions.js';
import { modelWhere } from './model-lookup.js';
import { ArtifactJanitor } from './artifact-janitor.js';
import type { Inspection } from './model-inspector.js';
import { ModelVersion, type SignatureRecord } from './model-version.entity.js';
import { receiveModelUpload } from './model-upload.js';
import { RegistryEvents } from './registry-events.js';

export interface ModelFilter {
  name?: string;
  stage?: Stage;
  modelType?: string;
  tag?: string;
  /** created: newest push first; version: highest version first. */
  sort?: 'created' | 'version';
  limit: number;
  offset: number;
}

export interface ModelChanges {
  stage?: Stage;
  /** Merged into the stored metadata; a key set to null is removed (JSON merge patch, one level). */
  metadata?: Record<string, unknown>;
  tags?: string[];
}

export interface Lineage {
  ancestors: ModelVersion[];
  descendants: ModelVersion[];
}

/** Says why a model version is still needed (e.g. "is the fallback of deployment X"), or null. */
export type ModelUsageCheck = (manager: EntityManager, modelId: string) => Promise<string | null>;

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class RegistryService {
  private readonly logger = new Logger('Registry');
  private readonly models: Repository<ModelVersion>;
  private readonly janitor: ArtifactJanitor;
  private readonly usageChecks: ModelUsageCheck[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly signing: SigningService,
    private readonly metrics: MetricsService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: RegistryEvents,
  ) {
    this.models = dataSource.getRepository(ModelVersion);
    this.janitor = new ArtifactJanitor(
      (sha256) => this.models.existsBy({ sha256 }),
      (sha256) => this.store.delete(sha256),
      (message) => this.logger.error(message),
    );
  }

  /** A multipart push: stream to storage, validate everything, then insert the row (or remove the bytes). */
  async push(request: IncomingMessage, principal: Principal): Promise<ModelVersion> {
    const done = this.janitor.begin();
    try {
      const model = await this.receiveAndRegister(request, principal);
      this.metrics.modelPushes.inc({ result: 'created' });
      this.metrics.modelPushBytes.inc(model.size);
      return model;
    } catch (error) {
      this.metrics.modelPushes.inc({
        result: error instanceof DomainError ? error.code : 'INTERNAL',
      });
      throw error;
    } finally {
      await done();
    }
  }

  private async receiveAndRegister(
    request: IncomingMessage,
    principal: Principal,
  ): Promise<ModelVersion> {
    const upload = await receiveModelUpload(request, {
      store: this.store,
      maxBytes: this.config.MAX_MODEL_BYTES,
      checkFieldsBeforeFile: (fields) => this.checkEarlyFields(fields),
      discard: (sha256) => this.janitor.discard(sha256),
    });
    try {
      return await this.register(
        upload.fields,
        upload.signature,
        upload.artifact,
        upload.inspection,
        principal,
      );
    } catch (error) {
      await this.janitor.discard(upload.artifact.sha256);
      throw error;
    }
  }

  /** Refuses a push before its file is read when the fields sent ahead of it already say no. */
  private async checkEarlyFields(fields: Record<string, string>): Promise<void> {
    const problem = firstProblem(
      fields.name !== undefined ? checkModelName(fields.name) : null,
      fields.version !== undefined ? checkVersion(fields.version) : null,
      fields.stage !== undefined ? checkStage(fields.stage) : null,
    );
    if (problem) throw validationFailed(problem);
    if (fields.name && fields.version) await this.assertNewVersion(fields.name, fields.version);
  }

  private async register(
    fields: Record<string, string>,
    bundle: Buffer | null,
    artifact: StoredArtifact,
    inspection: Inspection,
    principal: Principal,
  ): Promise<ModelVersion> {
    const { name = '', version = '', model_type = '', framework = '', stage = '' } = fields;
    const tags = parseTags(fields.tags);
    const metadata = parseMetadata(fields.metadata);
    const problem = firstProblem(
      checkModelName(name),
      checkVersion(version),
      checkLabel('model_type', model_type),
      checkLabel('framework', framework),
      checkStage(stage),
      checkTags(tags),
      'problem' in metadata ? metadata.problem : null,
      fields.parent_id && !UUID_PATTERN.test(fields.parent_id)
        ? `parent_id "${fields.parent_id}" is not a UUID`
        : null,
    );
    if (problem) throw validationFailed(problem);
    if (artifact.size === 0) throw new DomainError('EMPTY_FILE', 'the model file is empty');
    const { format, onnx } = inspection;
    // framework "onnx" keeps its own code and the parser's reason
    if (framework.toLowerCase() === 'onnx' && onnx instanceof Error)
      throw new DomainError('NOT_ONNX', onnx.message);
    const mismatch = checkFrameworkFormat(framework, format);
    if (mismatch) throw new DomainError('FORMAT_MISMATCH', mismatch);
    await this.assertNewVersion(name, version);
    const parentId = fields.parent_id || null;
    if (parentId && !(await this.models.existsBy({ id: parentId }))) {
      throw validationFailed(`parent_id ${parentId} is not a model version in this registry`);
    }

    let signature: SignatureRecord | null = null;
    let signatureBundle: Record<string, unknown> | null = null;
    if (bundle) {
      const verified = await this.signing.verify(bundle, artifact);
      signature = {
        key_hint: verified.key_hint,
        kind: verified.kind,
        bundle_media_type: verified.bundle_media_type,
        verified_at: new Date().toISOString(),
      };
      signatureBundle = JSON.parse(bundle.toString('utf8')) as Record<string, unknown>;
    } else if (this.signing.signaturesRequired) {
      throw new DomainError(
        'SIGNATURE_REQUIRED',
        'this hub requires signed models (REQUIRE_SIGNED_MODELS): add a "signature" part',
      );
    }

    try {
      const pushed = await this.dataSource.transaction(async (manager) => {
        const saved = await manager.getRepository(ModelVersion).save(
          manager.getRepository(ModelVersion).create({
            name,
            version,
            versionKey: versionSortKey(version),
            modelType: model_type,
            framework,
            stage: stage as Stage,
            sha256: artifact.sha256,
            size: artifact.size,
            metadata: (metadata as { metadata: Record<string, unknown> }).metadata,
            format,
            onnx: onnx instanceof Error ? null : onnx,
            tags,
            parentId,
            signature,
            signatureBundle,
            createdBy: actorOf(principal),
          }),
        );
        await this.audit.record(
          actorOf(principal),
          'model.push',
          'model',
          saved.id,
          {
            name,
            version,
            sha256: artifact.sha256,
            size: artifact.size,
            signed: signature !== null,
          },
          manager,
        );
        return saved;
      });
      this.events.emit('model.changed', { id: pushed.id, change: 'pushed' });
      return pushed;
    } catch (error) {
      if (
        error instanceof QueryFailedError &&
        (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
      ) {
        throw duplicate(name, version);
      }
      throw error;
    }
  }

  private async assertNewVersion(name: string, version: string): Promise<void> {
    if (await this.models.existsBy({ name, version })) throw duplicate(name, version);
  }

  async list(filter: ModelFilter): Promise<{ items: ModelVersion[]; total: number }> {
    const query = this.models.createQueryBuilder('m');
    if (filter.sort === 'version') query.orderBy('m.version_key', 'DESC');
    else query.orderBy('m.created_at', 'DESC');
    query.addOrderBy('m.id', 'ASC');
    if (filter.name) query.andWhere('m.name = :name', { name: filter.name });
    if (filter.stage) query.andWhere('m.stage = :stage', { stage: filter.stage });
    if (filter.modelType)
      query.andWhere('m.model_type = :modelType', { modelType: filter.modelType });
    if (filter.tag) query.andWhere(':tag = ANY(m.tags)', { tag: filter.tag });
    const [items, total] = await query.take(filter.limit).skip(filter.offset).getManyAndCount();
    return { items, total };
  }

  /** One model version by `ref`: its id or `name@version` (parseModelRef), in one look-up. */
  async get(ref: string): Promise<ModelVersion> {
    const model = await this.models.findOneBy(modelWhere(ref));
    if (!model) throw notFound('model', ref);
    return model;
  }

  async update(ref: string, changes: ModelChanges, principal: Principal): Promise<ModelVersion> {
    const problem = firstProblem(changes.tags ? checkTags(changes.tags) : null);
    if (problem) throw validationFailed(problem);
    const updated = await this.dataSource.transaction(async (manager) => {
      const repository = manager.getRepository(ModelVersion);
      const model = await repository.findOne({
        where: modelWhere(ref),
        lock: { mode: 'pessimistic_write' },
      });
      if (!model) throw notFound('model', ref);
      const before = { stage: model.stage, tags: model.tags };
      if (changes.stage) model.stage = changes.stage;
      if (changes.tags) model.tags = [...new Set(changes.tags)];
      if (changes.metadata) {
        model.metadata = mergeMetadata(model.metadata, changes.metadata);
        const problem = checkMetadataSize(model.metadata) ?? requirementsProblem(model.metadata);
        if (problem) throw validationFailed(problem);
      }
      const saved = await repository.save(model);
      await this.audit.record(
        actorOf(principal),
        'model.update',
        'model',
        model.id,
        { before, changes },
        manager,
      );
      return saved;
    });
    this.events.emit('model.changed', { id: updated.id, change: 'updated' });
    return updated;
  }

  async delete(ref: string, principal: Principal): Promise<void> {
    const model = await this.get(ref);
    const id = model.id;
    await this.dataSource.transaction(async (manager) => {
      // Taken before the checks: a pin or deployment storing a reference waits (FOR SHARE) or sees it gone.
      await manager.query('SELECT id FROM model_versions WHERE id = $1 FOR UPDATE', [id]);
      const use = await this.stillNeeded(manager, id);
      if (use)
        throw new DomainError('CONFLICT', `model ${id} ${use}; set its stage to archived instead`);
      await manager.getRepository(ModelVersion).delete({ id });
      await this.audit.record(
        actorOf(principal),
        'model.delete',
        'model',
        id,
        {
          name: model.name,
          version: model.version,
          sha256: model.sha256,
        },
        manager,
      );
    });
    this.events.emit('model.changed', { id, change: 'deleted' });
    await this.janitor.discard(model.sha256);
  }

  /**
   * Lets the features that refer to model versions (deployments, pins) veto a delete. A check runs in
   * the delete's transaction, after the version's row is locked, and says why the version is needed.
   */
  addUsageCheck(check: ModelUsageCheck): void {
    this.usageChecks.push(check);
  }

  private async stillNeeded(manager: EntityManager, id: string): Promise<string | null> {
    for (const check of this.usageChecks) {
      const use = await check(manager, id);
      if (use) return use;
    }
    return null;
  }

  async lineage(ref: string): Promise<Lineage> {
    const { id } = await this.get(ref);
    const ancestorIds: { id: string; depth: number }[] = await this.dataSource.query(
      `WITH RECURSIVE chain(id, parent_id, depth) AS (
         SELECT id, parent_id, 0 FROM model_versions WHERE id = $1
         UNION ALL
         SELECT m.id, m.parent_id, c.depth + 1 FROM model_versions m JOIN chain c ON m.id = c.parent_id
       ) SELECT id, depth FROM chain WHERE depth > 0 ORDER BY depth`,
      [id],
    );
    const descendantIds: { id: string; depth: number }[] = await this.dataSource.query(
      `WITH RECURSIVE tree(id, depth) AS (
         SELECT id, 1 FROM model_versions WHERE parent_id = $1
         UNION ALL
         SELECT m.id, t.depth + 1 FROM model_versions m JOIN tree t ON m.parent_id = t.id
       ) SELECT id, depth FROM tree ORDER BY depth`,
      [id],
    );
    const load = async (rows: { id: string }[]) => {
      if (rows.length === 0) return [];
      const byId = new Map(
        (
          await this.models
            .createQueryBuilder('m')
            .whereInIds(rows.map((r) => r.id))
            .getMany()
        ).map((m) => [m.id, m]),
      );
      return rows.map((row) => byId.get(row.id)!).filter(Boolean);
    };
    return { ancestors: await load(ancestorIds), descendants: await load(descendantIds) };
  }

  openArtifact(model: ModelVersion, range?: ByteRange) {
    return this.store.read(model.sha256, range);
  }
}

function firstProblem(...problems: Problem[]): Problem {
  return problems.find((problem) => problem !== null) ?? null;
}

function duplicate(name: string, version: string): DomainError {
  return new DomainError('CONFLICT', `model ${name}@${version} already exists`);
}
