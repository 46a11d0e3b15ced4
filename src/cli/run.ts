import { Command, CommanderError } from 'commander';
import { addCommonHelp, addGlobalOptions, type CliIo } from './cli-context.js';
import { EXIT, UsageError, exitCodeOf, formatErrorLine } from './cli-errors.js';
import { registerAliasCommands, registerGateCommands } from './commands/alias.js';
import { registerBrokerCommands } from './commands/broker.js';
import {
  registerDeploymentCommands,
  registerModelDeploymentCommands,
} from './commands/deployment.js';
import { registerDeviceCommands } from './commands/device.js';
import { registerGroupCommands } from './commands/group.js';
import { registerModelManageCommands } from './commands/model-manage.js';
import { registerModelCommands } from './commands/model.js';
import { registerTokenCommands } from './commands/token.js';

export type { CliIo } from './cli-context.js';

/**
 * A fresh command tree per invocation (commander keeps parsed state on the objects).
 * `onStderrHelp` is called when commander prints help because a command was incomplete.
 */
export function buildProgram(io: CliIo, onStderrHelp: () => void = () => {}): Command {
  const program = new Command('sentinel')
    .description('Command-line client for the Sentinel model hub')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => {
        onStderrHelp();
        io.stderr.write(text);
      },
      // Errors are printed once, as a single line, by run(); so writeErr only ever receives help.
      outputError: () => {},
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => io.stderr.columns ?? 80,
    });
  addCommonHelp(program);
  const model = registerModelCommands(program, io);
  registerModelManageCommands(model, io);
  registerModelDeploymentCommands(model, io);
  registerAliasCommands(model, io);
  registerDeploymentCommands(program, io);
  registerGateCommands(program, io);
  registerGroupCommands(program, io);
  registerDeviceCommands(program, io);
  registerTokenCommands(program, io);
  registerBrokerCommands(program, io);
  return addGlobalOptions(program);
}

function commanderExitCode(err: CommanderError, io: CliIo, helpOnStderr: boolean): number {
  // Help requested (--help, `help <command>`) exits 0; help shown for an incomplete command is a usage error.
  // commander's own exit code for help is not used: it mirrors process.exitCode.
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') {
    return helpOnStderr ? EXIT.USAGE : EXIT.OK;
  }
  io.stderr.write(formatErrorLine(new UsageError(err.message.replace(/^error: /, ''))));
  return EXIT.USAGE;
}

/** Runs the CLI on `argv` (arguments after the program name) and resolves to the process exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let helpOnStderr = false;
  const program = buildProgram(io, () => (helpOnStderr = true));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) return commanderExitCode(err, io, helpOnStderr);
    io.stderr.write(formatErrorLine(err));
    return exitCodeOf(err);
  }
}
