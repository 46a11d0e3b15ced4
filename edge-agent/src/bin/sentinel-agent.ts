#!/usr/bin/env node
import { Command, Option } from 'commander';
import { Agent, AGENT_VERSION } from '../agent.js';
import { ConfigError, loadAgentConfig, settingsHelp } from '../config.js';
import { jsonLogger } from '../log.js';
import { STOP_GRACE_MS, stopOnSignals } from '../lifecycle/signals.js';

const program = new Command('sentinel-agent')
  .description(
    'Sentinel edge agent: follows the desired model state of its device group over MQTT, downloads and\n' +
      'verifies models (sha256 + Sigstore signature against its own trusted keys), runs them in blue/green\n' +
      'onnxruntime slots with health-checked hot swaps, serves a local inference API and reports state and\n' +
      'telemetry.',
  )
  .version(AGENT_VERSION)
  .addOption(
    new Option(
      '-c, --config <file>',
      'YAML or JSON file of settings (keys below); the environment wins',
    ),
  )
  .option('--print-config', 'print the effective settings (secrets hidden) and exit')
  .addHelpText(
    'after',
    `\nSettings (environment variable, description, default, config file key):\n${settingsHelp()}\n\n` +
      'Exit codes: 0 stopped by SIGTERM/SIGINT, 2 invalid configuration, 1 any other start-up failure,\n' +
      `or a stop that did not finish within ${STOP_GRACE_MS / 1000} s (or a second signal).\n` +
      'Local API: POST /v1/infer, POST /v1/quality, GET /v1/status, GET /healthz (see edge-agent/README.md).',
  );

program.parse();
const options = program.opts<{ config?: string; printConfig?: boolean }>();

let config;
try {
  config = loadAgentConfig(process.env, options.config);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`sentinel-agent: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

if (options.printConfig) {
  const shown = {
    ...config,
    mqttPassword: config.mqttPassword ? '(set)' : undefined,
    trustedKeys: config.trustedKeys.map((k) => `${k.algorithm} ${k.hint}`),
  };
  process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  process.exit(0);
}

const logger = jsonLogger(config.logLevel, { device: config.deviceId });
const agent = new Agent(config, { logger });
try {
  await agent.start();
} catch (error) {
  process.stderr.write(`sentinel-agent: cannot start: ${(error as Error).message}\n`);
  process.exit(1);
}
// A line that scripts and tests can wait for.
process.stdout.write(
  `sentinel-agent ${config.deviceId} ready; local API ${agent.apiUrl ?? 'off'}\n`,
);

stopOnSignals(() => agent.stop(), logger);
