// Writes docs/openapi.json from the code (npm run openapi). test/openapi.test.ts fails when it is stale.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOpenApiDocument, createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/app-config.js';

export async function generateOpenApi(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-openapi-'));
  const app = await createApp(
    loadConfig({
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      MQTT_PORT: '0',
      MQTT_WS_PORT: '0',
      LOG_LEVEL: 'error',
      ADMIN_TOKEN: 'openapi-generation-only',
    }),
  );
  try {
    await app.init();
    return JSON.stringify(buildOpenApiDocument(app), null, 2) + '\n';
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await generateOpenApi();
  mkdirSync('docs', { recursive: true });
  writeFileSync('docs/openapi.json', text);
  console.log('wrote docs/openapi.json');
}
