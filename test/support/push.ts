import { openAsBlob } from 'node:fs';
import type { TestHub } from './hub.js';

export interface PushFields {
  name?: string;
  version?: string;
  model_type?: string;
  framework?: string;
  stage?: string;
  metadata?: string;
  tags?: string;
  parent_id?: string;
}

export const DEFAULT_FIELDS = {
  model_type: 'object-detection',
  framework: 'onnx',
  stage: 'staging',
};

/** A multipart push as a browser or the seed's example would send it: fields first, file last. */
export async function pushModel(
  hub: TestHub,
  file: Uint8Array | { path: string },
  fields: PushFields,
  options: { token?: string; signature?: string } = {},
): Promise<Response> {
  const form = new FormData();
  for (const [key, value] of Object.entries({ ...DEFAULT_FIELDS, ...fields })) {
    if (value !== undefined) form.append(key, value);
  }
  if (options.signature !== undefined)
    form.append('signature', new Blob([options.signature]), 'bundle.json');
  const blob = 'path' in file ? await openAsBlob(file.path) : new Blob([file]);
  form.append('file', blob, 'model.onnx');
  return fetch(`${hub.url}/api/v1/models`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${options.token ?? hub.adminToken}` },
  });
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
