import type { Command } from 'commander';
import { defineCommand, printResult, type CliIo } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { connect, fleetApi } from '../fleet-api.js';
import type { UpdateModelBody } from '../hub-api.js';
import { checkModelRef } from '../model-ref.js';
import { formatModelDetail } from '../output.js';
import { checkMetadata, checkStage, parseTags, STAGES_HELP } from './model.js';

export interface UpdateCliOptions {
  stage?: string;
  metadata?: string;
  tags?: string;
}

/** The PATCH body of `model update`; at least one change, each checked locally. */
export function prepareModelUpdate(options: UpdateCliOptions): UpdateModelBody {
  const body: UpdateModelBody = {};
  if (options.stage !== undefined) body.stage = checkStage(options.stage);
  if (options.metadata !== undefined) {
    body.metadata = JSON.parse(checkMetadata(options.metadata)) as Record<string, unknown>;
  }
  if (options.tags !== undefined) body.tags = parseTags(options.tags);
  if (Object.keys(body).length === 0) {
    throw new UsageError('nothing to change: give --stage, --metadata or --tags');
  }
  return body;
}

/** `model update` and `model delete`, by id or name@version. */
export function registerModelManageCommands(model: Command, io: CliIo): void {
  defineCommand(model, 'update <model>', 'change the stage, metadata or tags of a model version')
    .option('--stage <stage>', `the new stage (${STAGES_HELP})`)
    .option(
      '--metadata <json>',
      'a JSON object merged into the metadata (a key set to null is removed)',
    )
    .option('--tags <tags>', 'comma-separated tags replacing the current ones ("" for none)')
    .action(async (ref: string, options: UpdateCliOptions, command: Command) => {
      const modelRef = checkModelRef('model', ref);
      const body = prepareModelUpdate(options);
      const { globals, hub } = connect(command, io);
      printResult(io, globals, await fleetApi.updateModel(hub, modelRef, body), formatModelDetail);
    });

  defineCommand(
    model,
    'delete <model>',
    'delete a model version (admin); refused while deployments or pins refer to it',
  ).action(async (ref: string, _options: unknown, command: Command) => {
    const modelRef = checkModelRef('model', ref);
    const { globals, hub } = connect(command, io);
    await fleetApi.deleteModel(hub, modelRef);
    printResult(io, globals, { deleted: modelRef }, () => `deleted model ${modelRef}\n`);
  });
}
