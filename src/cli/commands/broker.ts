import type { Command } from 'commander';
import { defineCommand, resolveGlobalOptions, type CliIo } from '../cli-context.js';
import { HubClient } from '../hub-client.js';

/** `sentinel broker ...`: keeps an external Mosquitto in step with the fleet (MQTT_URL mode). */
export function registerBrokerCommands(program: Command, io: CliIo): void {
  const broker = defineCommand(
    program,
    'broker',
    'files for an external Mosquitto broker',
  ).addHelpText(
    'after',
    '\nAfter a fleet change: write both files, prepend the hub user to the password file\n' +
      '(mosquitto_passwd), and send Mosquitto a SIGHUP to re-read them.\n',
  );

  defineCommand(
    broker,
    'export-passwd',
    'print the Mosquitto password file of every device (admin token)',
  ).action(async (_options: unknown, command: Command) => {
    const globals = resolveGlobalOptions(command, io.env);
    io.stdout.write(
      await new HubClient({ baseUrl: globals.url, token: globals.token }).mosquittoPasswordFile(),
    );
  });

  defineCommand(broker, 'export-acl', 'print the Mosquitto ACL file of the fleet (admin token)')
    .option('--hub-user <user>', "the hub's MQTT user name (MQTT_USERNAME)", 'sentinel-hub')
    .action(async (options: { hubUser: string }, command: Command) => {
      const globals = resolveGlobalOptions(command, io.env);
      io.stdout.write(
        await new HubClient({ baseUrl: globals.url, token: globals.token }).mosquittoAclFile(
          options.hubUser,
        ),
      );
    });
}
