// The agent's log (stderr) is JSON lines, also while onnxruntime loads a model it has a warning
// about; onnxruntime's own coloured text lines appear only when SENTINEL_ORT_LOG_LEVEL asks for them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import {
  ModelServer,
  serving,
  spawnAgent,
  stopProcess,
  TestBroker,
  type AgentProcess,
} from './support/agent-fixture.js';
import { fastModel } from './support/onnx-models.js';

/** fastModel() with an initializer no node uses: onnxruntime warns that it removes it. */
function modelWithUnusedInitializer(): Buffer {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(fastModel());
  model.graph!.initializer!.push({
    name: 'unused_weight',
    dims: [2],
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: Buffer.alloc(8),
  });
  return Buffer.from(onnx.ModelProto.encode(model).finish());
}

describe("the agent's log while onnxruntime loads a model", () => {
  let broker: TestBroker;
  let server: ModelServer;
  let dir: string;
  const agents: AgentProcess[] = [];

  before(async () => {
    broker = new TestBroker();
    await broker.start();
    server = new ModelServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'agent-log-'));
  });
  after(async () => {
    for (const agent of agents) await stopProcess(agent.child, 'SIGKILL');
    await broker.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs an agent until it serves the model; returns its stderr. */
  async function serveWith(id: string, env: Record<string, string>): Promise<string> {
    const group = `log-${id}`;
    const device = broker.addDevice(id, group);
    const model = server.add('warned', '1.0.0', modelWithUnusedInitializer());
    const agent = await spawnAgent({
      SENTINEL_DEVICE_ID: id,
      SENTINEL_MQTT_URL: broker.url,
      SENTINEL_MQTT_PASSWORD: device.password,
      SENTINEL_GROUP: group,
      SENTINEL_DATA_DIR: join(dir, id),
      SENTINEL_API: '127.0.0.1:0',
      SENTINEL_LOG_LEVEL: 'debug',
      ...env,
    });
    agents.push(agent);
    await broker.publishDesired({ group }, { model });
    await broker.waitForState(id, (state) => serving(state, model));
    await stopProcess(agent.child);
    return agent.stderr();
  }

  it('writes only JSON lines by default', async () => {
    const stderr = await serveWith('cam-json', {});
    const lines = stderr.split('\n').filter((line) => line !== '');
    assert.ok(lines.length > 3, stderr);
    for (const line of lines) {
      assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
      assert.ok(!line.includes('\u001b['), `colour codes in: ${line}`);
    }
    assert.doesNotMatch(stderr, /onnxruntime:/);
  });

  it("shows onnxruntime's own warnings when SENTINEL_ORT_LOG_LEVEL=warning", async () => {
    const stderr = await serveWith('cam-ort', { SENTINEL_ORT_LOG_LEVEL: 'warning' });
    assert.match(stderr, /\[W:onnxruntime:.*Removing initializer 'unused_weight'/);
  });
});
