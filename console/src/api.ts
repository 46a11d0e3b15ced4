// The hub's REST API as the console calls it: the token from sessionStorage as Bearer, errors as
// ApiError carrying the hub's own message (`{statusCode, error, message}`).
export type {
  DeploymentDetailDto,
  DeploymentDto,
  DeploymentHealthDto,
  DeploymentListDto,
  DeviceDto,
  DeviceListDto,
  DeviceWithCredentialsDto,
  GroupDto,
  GroupListDto,
  HealthCheckDto,
  LineageDto,
  ModelListDto,
  ModelVersionDto,
} from '../../src/cli/hub-api.generated.js';

const TOKEN_KEY = 'sentinel.token';

export type Role = 'viewer' | 'operator' | 'admin';

export interface Whoami {
  token_id: string | null;
  name: string;
  role: Role;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** What a person reads: the hub's message, with what a 401/403 means for them. */
  get explained(): string {
    if (this.status === 403) return `Not allowed for your token's role (403): ${this.message}`;
    if (this.status === 401) return `Not signed in or the token was revoked (401): ${this.message}`;
    return `${this.message} (${this.status}${this.code ? ` ${this.code}` : ''})`;
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export function authHeaders(): Record<string, string> {
  const t = token.get();
  return t ? { authorization: `Bearer ${t}` } : {};
}

export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  return errorFromBody(response.status, text, response.statusText);
}

export function errorFromBody(status: number, text: string, statusText = ''): ApiError {
  try {
    const body = JSON.parse(text) as { error?: string; message?: string | string[] };
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    return new ApiError(status, body.error ?? '', message ?? (text || statusText));
  } catch {
    return new ApiError(status, '', text || statusText || `HTTP ${status}`);
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      ...authHeaders(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string, query?: Query) => request<T>('GET', withQuery(path, query));
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);
export const del = <T>(path: string) => request<T>('DELETE', path);

/** The hub has no such route (an older hub): Nest's own 404, "Cannot GET /path". */
export function isMissingRoute(error: ApiError): boolean {
  return error.status === 404 && /^Cannot (GET|POST|HEAD) /.test(error.message);
}

/** GET that answers null on 404: for routes a hub may not have yet (an older hub). */
export async function getOptional<T>(path: string, query?: Query): Promise<T | null> {
  try {
    return await get<T>(path, query);
  } catch (error) {
    if (error instanceof ApiError && isMissingRoute(error)) return null;
    throw error;
  }
}

/**
 * Multipart push with upload progress (fetch has none): the same fields the CLI sends, the file last
 * so the hub has the fields before the bytes.
 */
export function pushModel(
  fields: Record<string, string>,
  file: File,
  onProgress: (sent: number, total: number) => void,
  signature?: File | null,
): Promise<import('../../src/cli/hub-api.generated.js').ModelVersionDto> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) if (value !== '') form.append(key, value);
    if (signature && signature.size > 0) form.append('signature', signature, signature.name);
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/models');
    const t = token.get();
    if (t) xhr.setRequestHeader('authorization', `Bearer ${t}`);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText));
      else reject(errorFromBody(xhr.status, xhr.responseText, xhr.statusText));
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'the upload was interrupted'));
    xhr.send(form);
  });
}
