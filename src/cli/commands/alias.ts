// `sentinel model alias ...` (registry aliases such as detector@champion) and `sentinel gate ...`
// (stage gates per environment). Names are checked by the hub's own pure rules before any request.
import type { Command } from 'commander';
import { checkAliasName } from '../../registry/domain/model-ref.js';
import { checkModelName } from '../../registry/domain/model-rules.js';
import { defineCommand, printResult, type CliIo } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { connect } from '../fleet-api.js';
import type { HubClient } from '../hub-client.js';
import type * as Api from '../hub-api.generated.js';
import { formatTable, formatTimestamp } from '../output.js';
import { checkFleetId } from './deployment-args.js';
import { checkStage, STAGES_HELP } from './model.js';

const ALIASES = '/api/v1/aliases';
const GATES = '/api/v1/gates';
const enc = encodeURIComponent;

export const aliasApi = {
  list: (hub: HubClient, model?: string) =>
    hub.call<Api.AliasListDto>('GET', ALIASES, { query: { model } }),
  set: (hub: HubClient, ref: AliasRef, body: Api.SetAliasDto) =>
    hub.call<Api.AliasDto>('PUT', `${ALIASES}/${enc(ref.model)}/${enc(ref.alias)}`, {
      json: body,
    }),
  remove: (hub: HubClient, ref: AliasRef) =>
    hub.call<void>('DELETE', `${ALIASES}/${enc(ref.model)}/${enc(ref.alias)}`),
  history: (hub: HubClient, ref: AliasRef) =>
    hub.call<Api.AliasHistoryDto>('GET', `${ALIASES}/${enc(ref.model)}/${enc(ref.alias)}/history`),
};

export const gatesApi = {
  list: (hub: HubClient) => hub.call<Api.GatesListDto>('GET', GATES),
  set: (hub: HubClient, environment: string, body: Api.SetGatesDto) =>
    hub.call<Api.GatesDto>('PUT', `${GATES}/${enc(environment)}`, { json: body }),
  remove: (hub: HubClient, environment: string) =>
    hub.call<void>('DELETE', `${GATES}/${enc(environment)}`),
};

export interface AliasRef {
  model: string;
  alias: string;
}

/** `detector@champion` -> {model, alias}, or a UsageError with the reason. */
export function parseAliasRef(value: string): AliasRef {
  const at = value.lastIndexOf('@');
  if (at <= 0) throw new UsageError(`"${value}" must be name@alias, e.g. detector@champion`);
  const ref = { model: value.slice(0, at), alias: value.slice(at + 1) };
  const problem = checkModelName(ref.model) ?? checkAliasName(ref.alias);
  if (problem) throw new UsageError(problem);
  return ref;
}

export function formatAliasList(list: Api.AliasListDto): string {
  if (list.items.length === 0) return 'no aliases found\n';
  return formatTable(
    ['ALIAS', 'VERSION', 'MODEL ID', 'MOVED BY', 'MOVED'],
    list.items.map((a) => [
      `${a.model}@${a.alias}`,
      a.version,
      a.model_id,
      a.moved_by,
      formatTimestamp(a.moved_at),
    ]),
  );
}

export function formatAliasHistory(history: Api.AliasHistoryDto): string {
  return formatTable(
    ['WHEN', 'FROM', 'TO', 'BY', 'REASON'],
    history.items.map((m) => [
      formatTimestamp(m.at),
      m.from_version ?? '-',
      m.to_version ?? '(removed)',
      m.actor,
      m.reason ?? '',
    ]),
  );
}

export function formatGates(list: Api.GatesListDto): string {
  if (list.items.length === 0) return 'no environment has stage gates\n';
  return formatTable(
    ['ENVIRONMENT', 'REQUIRED STAGE', 'SUCCESS FIRST IN', 'UPDATED BY', 'UPDATED'],
    list.items.map((g) => [
      g.environment,
      g.required_stage ?? '-',
      g.require_success_in ?? '-',
      g.updated_by,
      formatTimestamp(g.updated_at),
    ]),
  );
}

/** `sentinel model alias list|set|rm|history`. */
export function registerAliasCommands(model: Command, io: CliIo): void {
  const alias = defineCommand(
    model,
    'alias',
    'named pointers to versions (detector@champion): deploy, pin or get through them',
  );

  defineCommand(alias, 'list [model]', 'list aliases and the versions they point at').action(
    async (name: string | undefined, _options: unknown, command: Command) => {
      if (name !== undefined) {
        const problem = checkModelName(name);
        if (problem) throw new UsageError(problem);
      }
      const { globals, hub } = connect(command, io);
      printResult(io, globals, await aliasApi.list(hub, name), formatAliasList);
    },
  );

  defineCommand(alias, 'set <name@alias> <version>', 'point an alias at a version (audited)')
    .option('--reason <text>', 'why, kept in the alias history')
    .action(
      async (ref: string, version: string, options: { reason?: string }, command: Command) => {
        const target = parseAliasRef(ref);
        const { globals, hub } = connect(command, io);
        const body = {
          version,
          ...(options.reason === undefined ? {} : { reason: options.reason }),
        };
        const moved = await aliasApi.set(hub, target, body);
        printResult(
          io,
          globals,
          moved,
          (a) => `${a.model}@${a.alias} -> ${a.version} (${a.model_id})\n`,
        );
      },
    );

  defineCommand(alias, 'rm <name@alias>', 'remove an alias (its history stays)').action(
    async (ref: string, _options: unknown, command: Command) => {
      const target = parseAliasRef(ref);
      const { globals, hub } = connect(command, io);
      await aliasApi.remove(hub, target);
      const removed = `${target.model}@${target.alias}`;
      printResult(io, globals, { removed }, () => `removed ${removed}\n`);
    },
  );

  defineCommand(alias, 'history <name@alias>', 'who moved an alias, when, from and to what').action(
    async (ref: string, _options: unknown, command: Command) => {
      const target = parseAliasRef(ref);
      const { globals, hub } = connect(command, io);
      printResult(io, globals, await aliasApi.history(hub, target), formatAliasHistory);
    },
  );
}

/** `sentinel gate list|set|rm`: what a version must have passed before it may enter an environment. */
export function registerGateCommands(program: Command, io: CliIo): void {
  const gate = defineCommand(program, 'gate', 'stage gates per environment (set and rm: admin)');

  defineCommand(gate, 'list', 'list the environments that have stage gates').action(
    async (_options: unknown, command: Command) => {
      const { globals, hub } = connect(command, io);
      printResult(io, globals, await gatesApi.list(hub), formatGates);
    },
  );

  defineCommand(gate, 'set <environment>', "set an environment's stage gates")
    .option('--stage <stage>', `the stage a version must be in (${STAGES_HELP})`)
    .option('--after <environment>', 'a succeeded deployment of the same version must come first')
    .action(
      async (
        environment: string,
        options: { stage?: string; after?: string },
        command: Command,
      ) => {
        const env = checkFleetId('environment', environment);
        if (options.stage === undefined && options.after === undefined)
          throw new UsageError('nothing to gate: give --stage, --after or both');
        const body: Api.SetGatesDto = {
          required_stage: options.stage === undefined ? null : checkStage(options.stage),
          require_success_in:
            options.after === undefined ? null : checkFleetId('--after', options.after),
        };
        const { globals, hub } = connect(command, io);
        const set = await gatesApi.set(hub, env, body);
        printResult(io, globals, set, (g) => formatGates({ items: [g] }));
      },
    );

  defineCommand(gate, 'rm <environment>', "remove an environment's stage gates").action(
    async (environment: string, _options: unknown, command: Command) => {
      const env = checkFleetId('environment', environment);
      const { globals, hub } = connect(command, io);
      await gatesApi.remove(hub, env);
      printResult(io, globals, { removed: env }, () => `removed the stage gates of ${env}\n`);
    },
  );
}
