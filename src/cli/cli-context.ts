import { Option, type Command } from 'commander';
import { EXIT_CODES_HELP, UsageError } from './cli-errors.js';
import { formatJson, type CliWritable } from './output.js';

/** Where a CLI invocation reads its environment and writes its output; process.* in the real bin. */
export interface CliIo {
  stdout: CliWritable;
  stderr: CliWritable;
  env: Readonly<Record<string, string | undefined>>;
}

export interface GlobalOptions {
  url: string;
  token: string | undefined;
  json: boolean;
  progress: boolean;
}

export const DEFAULT_HUB_URL = 'http://127.0.0.1:8070';

export const ENV_HELP = `Environment:
  SENTINEL_URL    hub base URL used when --url is not given (default ${DEFAULT_HUB_URL})
  SENTINEL_TOKEN  API token used when --token is not given (preferred: keeps it out of ps)`;

/**
 * Declares the global options on `root` and every command below it, not only the root: commander
 * stops matching root options after the first option it does not know, so
 * `model push f --name n --json` needs `--json` on `push` itself. `resolveGlobalOptions` merges them.
 * Call after all commands are defined so the help lists each command's own options first.
 */
export function addGlobalOptions(root: Command): Command {
  const options = [
    new Option('--url <url>', `hub base URL (env SENTINEL_URL, default ${DEFAULT_HUB_URL})`),
    new Option('--token <token>', 'API token, sent as a Bearer token (env SENTINEL_TOKEN)'),
    new Option('--json', 'print the result as JSON on stdout'),
    new Option('--no-progress', 'do not show the upload progress bar'),
  ];
  for (const option of options) root.addOption(option.helpGroup('Global options:'));
  for (const sub of root.commands) addGlobalOptions(sub);
  return root;
}

export function addCommonHelp(command: Command): Command {
  return command.addHelpText('after', `\n${ENV_HELP}\n\n${EXIT_CODES_HELP}\n`);
}

/** A subcommand with the env/exit-code help attached; global options are added by the program. */
export function defineCommand(parent: Command, nameAndArgs: string, description: string): Command {
  return addCommonHelp(parent.command(nameAndArgs).description(description));
}

function fromCommandLine(command: Command, key: string): unknown {
  for (let current: Command | null = command; current; current = current.parent) {
    if (current.getOptionValueSource(key) === 'cli') return current.getOptionValue(key);
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function checkHubUrl(url: string, origin: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new UsageError(`${origin} "${url}" is not a valid http(s) URL`);
  }
  return url;
}

/** Command line beats environment beats default, whichever command level the option was given at. */
export function resolveGlobalOptions(command: Command, env: CliIo['env']): GlobalOptions {
  const cliUrl = fromCommandLine(command, 'url') as string | undefined;
  const envUrl = nonEmpty(env.SENTINEL_URL);
  const url =
    cliUrl !== undefined
      ? checkHubUrl(cliUrl, '--url')
      : envUrl !== undefined
        ? checkHubUrl(envUrl, 'SENTINEL_URL')
        : DEFAULT_HUB_URL;
  const cliToken = fromCommandLine(command, 'token') as string | undefined;
  return {
    url,
    token: nonEmpty(cliToken) ?? nonEmpty(env.SENTINEL_TOKEN),
    json: fromCommandLine(command, 'json') === true,
    progress: fromCommandLine(command, 'progress') !== false,
  };
}

export function printResult<T>(
  io: CliIo,
  globals: GlobalOptions,
  value: T,
  format: (value: T) => string,
): void {
  io.stdout.write(globals.json ? formatJson(value) : format(value));
}
