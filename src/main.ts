import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { createApp } from './app.factory.js';
import { BrokerService } from './broker/broker.service.js';
import { restrictDataDir } from './database/data-dir-permissions.js';

let config: AppConfig;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`sentinel-hub: ${error.message}`);
  process.exit(1);
}

try {
  makeDataDirPrivate(config.DATA_DIR, true);
  const app = await createApp(config);
  makeDataDirPrivate(config.DATA_DIR, false); // again: PGlite sets its new files' modes itself
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address() as { port: number };
  const mqtt = app.get(BrokerService).ports;
  const on = (scheme: string, port: number | null) =>
    port === null ? '' : ` and ${scheme}://${config.HOST}:${port}`;
  if (mqtt?.mqtt)
    console.log(`sentinel-hub mqtt on tcp://${config.HOST}:${mqtt.mqtt}${on('ws', mqtt.ws)}`);
  if (mqtt?.mqtts)
    console.log(
      `sentinel-hub mqtt tls on mqtts://${config.HOST}:${mqtt.mqtts}${on('wss', mqtt.wss)}`,
    );
  stopOnSignals(app);
  // A fixed line that tests and scripts wait for (PORT=0 picks a free port); printed last.
  const scheme = config.TLS_CERT_FILE ? 'https' : 'http';
  console.log(`sentinel-hub listening on ${scheme}://${config.HOST}:${address.port}`);
} catch (error) {
  console.error(`sentinel-hub: could not start: ${(error as Error).message}`);
  process.exit(1);
}

/**
 * SIGTERM/SIGINT close the hub (broker sessions, pending telemetry and state writes, the database) and
 * exit. Exiting explicitly matters in a container, where the hub is PID 1: the kernel ignores a signal
 * PID 1 has no handler for, so re-raising it after the close (what Nest's shutdown hooks do) would
 * leave the process running until the runtime kills it with -9. A second signal, or a close that takes
 * longer than 25 s, exits at once with code 1.
 */
function stopOnSignals(app: { close(): Promise<void> }): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`sentinel-hub: ${signal} again, exiting without finishing the shutdown`);
      process.exit(1);
    }
    stopping = true;
    console.log(`sentinel-hub: ${signal} received, shutting down`);
    setTimeout(() => {
      console.error('sentinel-hub: shutdown took longer than 25 s, exiting');
      process.exit(1);
    }, 25_000).unref();
    app.close().then(
      () => {
        console.log('sentinel-hub: stopped');
        process.exit(0);
      },
      (error: Error) => {
        console.error(`sentinel-hub: shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function makeDataDirPrivate(dataDir: string, report: boolean): void {
  try {
    const tightened = restrictDataDir(dataDir);
    if (report && tightened > 0)
      console.log(`sentinel-hub: made ${tightened} entries under ${dataDir} private (0700/0600)`);
  } catch (error) {
    console.warn(`sentinel-hub: could not make ${dataDir} private: ${(error as Error).message}`);
  }
}
