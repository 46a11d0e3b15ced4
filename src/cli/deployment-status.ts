import { HubApiError, describeNetworkError } from './cli-errors.js';
import type { HubClient } from './hub-client.js';
import type { DeploymentDetail, DeploymentHealth } from './hub-api.js';

/**
 * What `deployment status` shows (and prints with --json): the deployment with its latest health
 * evaluation. `health` is null when it could not be fetched; `health_unavailable` then says why.
 */
export interface DeploymentStatus extends DeploymentDetail {
  health: DeploymentHealth | null;
  health_unavailable?: string;
}

export type StatusClient = Pick<HubClient, 'getDeployment' | 'getDeploymentHealth'>;

/** Why the health call gave nothing, in a few words for `health: unavailable (<reason>)`. */
export function healthUnavailableReason(err: unknown): string {
  // The deployment itself was just found, so a 404 here is a hub without the endpoint.
  if (err instanceof HubApiError && err.status === 404) {
    return `this hub has no health endpoint (HTTP 404 ${err.code})`;
  }
  return err instanceof Error && err.message !== '' ? err.message : describeNetworkError(err);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The health answer if it has the shape the views read (verdict, checks, reasons), else an Error.
 * Extra fields are fine; figures of the wrong type are shown as `-`.
 */
export function checkHealthShape(value: unknown): DeploymentHealth {
  const fail = (why: string): never => {
    throw new Error(`unexpected health response: ${why}`);
  };
  if (!isObject(value)) return fail('not an object');
  if (value.verdict !== null && typeof value.verdict !== 'string') fail('verdict');
  if (!Array.isArray(value.checks) || !value.checks.every(isObject)) fail('checks');
  if (!Array.isArray(value.reasons)) fail('reasons');
  return value as unknown as DeploymentHealth;
}

/** The health of a deployment, or why it is unavailable; never throws. */
export async function fetchHealth(
  client: Pick<HubClient, 'getDeploymentHealth'>,
  id: string,
): Promise<Pick<DeploymentStatus, 'health' | 'health_unavailable'>> {
  try {
    return { health: checkHealthShape(await client.getDeploymentHealth(id)) };
  } catch (err) {
    return { health: null, health_unavailable: healthUnavailableReason(err) };
  }
}

/**
 * `GET /deployments/:id`, then `GET /deployments/:id/health`. A failure of the first is the
 * command's error; a failure of the second only makes the health unavailable.
 */
export async function fetchDeploymentStatus(
  client: StatusClient,
  id: string,
): Promise<DeploymentStatus> {
  const detail = await client.getDeployment(id);
  return { ...detail, ...(await fetchHealth(client, id)) };
}
