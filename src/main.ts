import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { createApp } from './app.factory.js';
import { BrokerService } from './broker/broker.service.js';

let config: AppConfig;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`sentinel-hub: ${error.message}`);
  process.exit(1);
}

try {
  const app = await createApp(config);
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
  // A fixed line that tests and scripts wait for (PORT=0 picks a free port); printed last.
  const scheme = config.TLS_CERT_FILE ? 'https' : 'http';
  console.log(`sentinel-hub listening on ${scheme}://${config.HOST}:${address.port}`);
} catch (error) {
  console.error(`sentinel-hub: could not start: ${(error as Error).message}`);
  process.exit(1);
}
