import type { AgentConfig } from './config.js';
import { basicAuth } from './download/credentials.js';
import { httpGet } from './download/http-get.js';

const LOOKUP_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 64 * 1024;

/** The device's group, asked of the hub (GET /api/v1/devices/me), over the agent's TLS settings. */
export async function lookupGroup(config: AgentConfig): Promise<string | null> {
  const authorization = basicAuth(config.mqttUsername, config.mqttPassword);
  const response = await httpGet(new URL(`${config.hubUrl}/api/v1/devices/me`), {
    headers: authorization ? { authorization } : {},
    signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
    stallTimeoutMs: LOOKUP_TIMEOUT_MS,
    tls: config.tls,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      response.destroy();
      throw new Error(`hub answered more than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  if (response.statusCode !== 200) throw new Error(`hub answered HTTP ${response.statusCode}`);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { group?: string | null };
  return body.group ?? null;
}
