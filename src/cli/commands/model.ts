import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import semver from 'semver';
import { defineCommand, printResult, resolveGlobalOptions, type CliIo } from '../cli-context.js';
import { parseVersion } from '../../registry/domain/versions.js';
import { UsageError } from '../cli-errors.js';
import { HubClient } from '../hub-client.js';
import { checkModelRef } from '../model-ref.js';
import { STAGES, type ListModelsQuery, type PushModelInput, type Stage } from '../hub-api.js';
import {
  createUploadProgress,
  formatModelDetail,
  formatModelList,
  formatPushSummary,
} from '../output.js';

/** Raw option values as commander hands them to `model push`. */
export interface PushCliOptions {
  name: string;
  version: string;
  modelType: string;
  framework: string;
  stage: string;
  metadata?: string;
  signature?: string;
  parent?: string;
  tags?: string;
}

export interface ListCliOptions {
  name?: string;
  stage?: string;
  modelType?: string;
  sort?: string;
  limit?: string;
  offset?: string;
}

export const STAGES_HELP = STAGES.join(', ');

const MAX_SIGNATURE_BYTES = 1024 * 1024;

export function checkNonEmpty(flag: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`${flag} must not be empty`);
  return value;
}

/**
 * Accepts the hub's versions (canonical SemVer 2.0, a nightly date YYYYMMDD, CalVer YYYY.M.D[.N]) as
 * typed, so what the hub stores is exactly what was typed.
 */
export function checkVersion(version: string): string {
  if (parseVersion(version)) return version;
  const parsed = semver.parse(version);
  const canonical = parsed
    ? parsed.version + (parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '')
    : undefined;
  const hint = canonical ? ` (did you mean "${canonical}"?)` : '';
  throw new UsageError(
    `--version "${version}" is not a semantic version (1.2.0), a nightly date (20261206) or a calendar version (2026.12.6)${hint}`,
  );
}

export function checkSort(sort: string): 'created' | 'version' {
  if (sort === 'created' || sort === 'version') return sort;
  throw new UsageError(`--sort "${sort}" must be created or version`);
}

export function checkStage(stage: string): Stage {
  if ((STAGES as readonly string[]).includes(stage)) return stage as Stage;
  throw new UsageError(`--stage "${stage}" must be one of ${STAGES.join(', ')}`);
}

/** Returns the text unchanged (not re-serialised, so large integers keep their digits). */
export function checkMetadata(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--metadata is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError('--metadata must be a JSON object, e.g. \'{"dataset":"v3"}\'');
  }
  return text;
}

export function parseTags(text: string): string[] {
  const tags = text
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  return [...new Set(tags)];
}

export function parseCount(flag: string, text: string, min: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag} "${text}" must be an integer >= ${min}`);
  }
  return value;
}

/** Checks a file to upload is a readable, non-empty regular file and returns its size. */
export async function checkUploadFile(path: string, label: string): Promise<number> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${label} "${path}" is not a regular file`);
    size = info.size;
    await access(path, constants.R_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${label} "${path}" does not exist`);
    throw new UsageError(`${label} "${path}" cannot be read: ${code ?? (err as Error).message}`);
  }
  if (size === 0) throw new UsageError(`${label} "${path}" is empty`);
  return size;
}

export async function readSignatureBundle(
  path: string,
): Promise<{ filename: string; content: Buffer }> {
  const size = await checkUploadFile(path, '--signature');
  if (size > MAX_SIGNATURE_BYTES) {
    throw new UsageError(`--signature "${path}" is larger than 1 MiB; expected a Sigstore bundle`);
  }
  const content = await readFile(path);
  try {
    JSON.parse(content.toString('utf8'));
  } catch {
    throw new UsageError(`--signature "${path}" is not a JSON Sigstore bundle`);
  }
  return { filename: basename(path), content };
}

/** Validates everything locally, cheapest checks first; throws UsageError on the first problem. */
export async function preparePush(path: string, options: PushCliOptions): Promise<PushModelInput> {
  const input = {
    name: checkNonEmpty('--name', options.name),
    version: checkVersion(options.version),
    modelType: checkNonEmpty('--model-type', options.modelType),
    framework: checkNonEmpty('--framework', options.framework),
    stage: checkStage(options.stage),
    metadata: options.metadata === undefined ? undefined : checkMetadata(options.metadata),
    parentId: options.parent === undefined ? undefined : checkModelRef('--parent', options.parent),
    tags: options.tags === undefined ? undefined : parseTags(options.tags),
  };
  const size = await checkUploadFile(path, 'model file');
  const signature =
    options.signature === undefined ? undefined : await readSignatureBundle(options.signature);
  return { ...input, file: { path, size }, signature };
}

export function prepareListQuery(options: ListCliOptions): ListModelsQuery {
  return {
    name: options.name,
    stage: options.stage === undefined ? undefined : checkStage(options.stage),
    modelType: options.modelType,
    sort: options.sort === undefined ? undefined : checkSort(options.sort),
    limit: options.limit === undefined ? undefined : parseCount('--limit', options.limit, 1),
    offset: options.offset === undefined ? undefined : parseCount('--offset', options.offset, 0),
  };
}

/** Defines `model push|list|get` and returns the `model` command for more subcommands. */
export function registerModelCommands(program: Command, io: CliIo): Command {
  const model = defineCommand(program, 'model', 'publish, inspect and deploy model versions');

  defineCommand(
    model,
    'push <path>',
    'upload a model file (ONNX, PyTorch, TFLite, ...) as a new model version',
  )
    .requiredOption('--name <name>', 'model name')
    .requiredOption(
      '--version <version>',
      'semver (1.4.0), nightly date (20261206) or CalVer (2026.12.6)',
    )
    .requiredOption('--model-type <type>', 'model type, e.g. detector')
    .requiredOption(
      '--framework <framework>',
      'framework, e.g. pytorch or onnx (the hub checks it against the file)',
    )
    .requiredOption('--stage <stage>', `one of ${STAGES.join(', ')}`)
    .option('--metadata <json>', 'extra metadata as a JSON object')
    .option('--signature <bundle-file>', 'Sigstore bundle (JSON) signing the model file')
    .option('--parent <model>', 'the model version this one derives from (id or name@version)')
    .option('--tags <tags>', 'comma-separated tags, e.g. edge,int8')
    .action(async (path: string, options: PushCliOptions, command: Command) => {
      const globals = resolveGlobalOptions(command, io.env);
      const input = await preparePush(path, options);
      const client = new HubClient({ baseUrl: globals.url, token: globals.token });
      // The hub links parents by id: a name@version is looked up first.
      if (input.parentId?.includes('@'))
        input.parentId = (await client.getModel(input.parentId)).id;
      const progress = createUploadProgress(io.stderr, globals.progress && !globals.json);
      let created;
      try {
        created = await client.pushModel(input, (sent, total) => progress.update(sent, total));
      } finally {
        progress.stop();
      }
      printResult(io, globals, created, formatPushSummary);
    });

  defineCommand(model, 'list', 'list model versions')
    .option('--name <name>', 'only this model name')
    .option('--stage <stage>', `only this stage (${STAGES.join(', ')})`)
    .option('--model-type <type>', 'only this model type')
    .option('--sort <order>', 'created (newest first, the default) or version (highest first)')
    .option('--limit <n>', 'page size')
    .option('--offset <n>', 'number of versions to skip')
    .action(async (options: ListCliOptions, command: Command) => {
      const globals = resolveGlobalOptions(command, io.env);
      const query = prepareListQuery(options);
      const client = new HubClient({ baseUrl: globals.url, token: globals.token });
      printResult(io, globals, await client.listModels(query), formatModelList);
    });

  defineCommand(model, 'get <model>', 'show one model version (id or name@version)').action(
    async (ref: string, _options: unknown, command: Command) => {
      const globals = resolveGlobalOptions(command, io.env);
      const modelRef = checkModelRef('model', ref);
      const client = new HubClient({ baseUrl: globals.url, token: globals.token });
      printResult(io, globals, await client.getModel(modelRef), formatModelDetail);
    },
  );
  return model;
}
