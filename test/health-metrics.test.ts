import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHub, type InProcessHub } from './support/hub.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';
import { fastModel } from './support/onnx-models.js';
import { pushModel } from './support/push.js';

describe('health and metrics', () => {
  let hub: InProcessHub;
  before(async () => {
    hub = await startHub();
  });
  after(() => hub?.stop());

  it('reports database and storage up', async () => {
    const response = await fetch(`${hub.url}/health`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      status: string;
      info: Record<string, { status: string; engine?: string }>;
    };
    assert.equal(body.status, 'ok');
    assert.equal(body.info.database.status, 'up');
    assert.equal(body.info.storage.status, 'up');
    assert.equal(body.info.storage.engine, 'fs');
  });

  it('exposes Prometheus metrics, counting pushes by result', async () => {
    await pushModel(hub, fastModel(), { name: 'metered', version: '1.0.0' });
    await pushModel(hub, fastModel(), { name: 'metered', version: 'bad' });
    const response = await fetch(`${hub.url}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /sentinel_model_pushes_total\{result="created"\} 1/);
    assert.match(text, /sentinel_model_pushes_total\{result="VALIDATION_FAILED"\} 1/);
    assert.match(
      text,
      /sentinel_http_requests_total\{method="POST",route="\/api\/v1\/models",status="201"\} 1/,
    );
    assert.match(text, /sentinel_process_resident_memory_bytes/);
  });

  it('serves the Swagger UI and the OpenAPI JSON without a token', async () => {
    const ui = await fetch(`${hub.url}/docs`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger-ui/i);
    const document = (await (await fetch(`${hub.url}/docs-json`)).json()) as {
      openapi: string;
      paths: object;
    };
    assert.match(document.openapi, /^3\./);
    assert.ok('/api/v1/models' in document.paths);
  });
});

describe('health with S3 storage', () => {
  let s3: TestS3Server;
  let hub: InProcessHub;
  before(async () => {
    s3 = await startS3Server();
    hub = await startHub({
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: 'health-bucket',
    });
  });
  after(async () => {
    await hub?.stop();
    await s3?.close();
  });

  it('creates the bucket, stores pushes in it, and reports storage down (503) when S3 goes away', async () => {
    const pushed = await pushModel(hub, fastModel(), { name: 's3-model', version: '1.0.0' });
    assert.equal(pushed.status, 201);
    const up = (await (await fetch(`${hub.url}/health`)).json()) as {
      info: Record<string, { engine?: string }>;
    };
    assert.equal(up.info.storage.engine, 's3');
    await s3.close();
    const down = await fetch(`${hub.url}/health`);
    assert.equal(down.status, 503);
    const body = (await down.json()) as { error: Record<string, { status: string }> };
    assert.equal(body.error.storage.status, 'down');
  });
});
