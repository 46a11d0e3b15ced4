import type { Command } from 'commander';
import { defineCommand, printResult, type CliIo } from '../cli-context.js';
import { connect, fleetApi } from '../fleet-api.js';
import { formatCreatedToken, formatCreatedTokenNote, formatTokenList } from '../fleet-output.js';
import { checkUuid } from './deployment-args.js';
import { checkRole, checkTokenName, ROLES } from './fleet-args.js';

/** `sentinel token list|create|delete` (admin token). */
export function registerTokenCommands(program: Command, io: CliIo): void {
  const token = defineCommand(program, 'token', 'manage API tokens (admin)');

  defineCommand(token, 'list', 'list API tokens (never their secrets)').action(
    async (_options: unknown, command: Command) => {
      const { globals, hub } = connect(command, io);
      printResult(io, globals, await fleetApi.listTokens(hub), formatTokenList);
    },
  );

  defineCommand(
    token,
    'create <name>',
    'create an API token; prints the secret once, alone on stdout (e.g. for a CI secret)',
  )
    .requiredOption('--role <role>', `${ROLES.join(', ')}`)
    .action(async (name: string, options: { role: string }, command: Command) => {
      const body = { name: checkTokenName(name), role: checkRole(options.role) };
      const { globals, hub } = connect(command, io);
      const created = await fleetApi.createToken(hub, body);
      if (!globals.json) io.stderr.write(formatCreatedTokenNote(created));
      printResult(io, globals, created, formatCreatedToken);
    });

  defineCommand(token, 'delete <id>', 'revoke an API token').action(
    async (id: string, _options: unknown, command: Command) => {
      const tokenId = checkUuid('token id', id);
      const { globals, hub } = connect(command, io);
      await fleetApi.deleteToken(hub, tokenId);
      printResult(io, globals, { deleted: tokenId }, () => `revoked token ${tokenId}\n`);
    },
  );
}
