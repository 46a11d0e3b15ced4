/**
 * Where the device secret may go. A desired state names the artifact URL, and whoever can alter a
 * desired state (or the hub's PUBLIC_URL) could name their own server: the agent sends its
 * credential only to origins it was configured with (SENTINEL_HUB_URL and
 * SENTINEL_CREDENTIAL_ORIGINS) and fetches any other URL without one. An origin is scheme, host
 * and port: `https://hub.example` does not vouch for `http://hub.example` or `https://hub.example:8443`.
 */

/** The device credential as an HTTP Basic Authorization value (none without a password). */
export function basicAuth(username: string, password: string | undefined): string | undefined {
  if (password === undefined) return undefined;
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The origin of an http(s) URL (`https://hub.example:8443`), lower-cased, default port dropped. */
export function originOf(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
}

/** The origins that receive the device credential: the hub's and any listed besides. */
export function credentialOrigins(
  hubUrl: string | undefined,
  extra: readonly string[] = [],
): string[] {
  const origins = [hubUrl, ...extra].map((value) => (value ? originOf(value) : undefined));
  return [...new Set(origins.filter((origin): origin is string => origin !== undefined))];
}

export interface Credential {
  /** The Authorization header value (HTTP Basic with the device id and secret). */
  authorization?: string;
  /** Origins that may receive it; none when absent. */
  credentialOrigins?: readonly string[];
}

/** The Authorization header for a request to `url`: the credential for a trusted origin, else none. */
export function credentialFor(url: URL | undefined, credential: Credential): string | undefined {
  if (!url || !credential.authorization) return undefined;
  return credential.credentialOrigins?.includes(url.origin) ? credential.authorization : undefined;
}

/** `headers`, with the Authorization header when `url` has a trusted origin. */
export function credentialHeader(
  url: URL | undefined,
  credential: Credential,
  headers: Record<string, string> = {},
): Record<string, string> {
  const authorization = credentialFor(url, credential);
  return authorization ? { ...headers, authorization } : { ...headers };
}

/** One line for a download the server refused (a 4xx other than 408 and 429). */
export function refusedDownload(
  label: string,
  status: number,
  url: URL,
  credential: Credential,
): string {
  const line = `model ${label}: HTTP ${status} from ${url.origin}${url.pathname}`;
  if ((status !== 401 && status !== 403) || credentialFor(url, credential) !== undefined) {
    return line;
  }
  const trusted = credential.credentialOrigins?.join(', ') || 'none';
  return (
    `${line}; the agent sends its device credential only to the hub it was configured with ` +
    `(SENTINEL_HUB_URL, SENTINEL_CREDENTIAL_ORIGINS: ${trusted}), not to ${url.origin}`
  );
}
