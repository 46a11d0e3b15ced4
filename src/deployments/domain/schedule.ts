/**
 * When a deployment may notify new devices: after its scheduled start (`start_at`) and inside the
 * maintenance windows of every group it targets. Pure. Rollbacks are never held by either.
 */
import { windowState, type MaintenanceWindow } from '../../fleet/domain/maintenance-windows.js';

/** What holds a deployment's next notification at `now`: its start time, or a group's window. */
export function notificationHold(
  startAt: Date | null,
  groups: readonly { name: string; windows: readonly MaintenanceWindow[] }[],
  now: Date,
): string | null {
  if (startAt !== null && now.getTime() < startAt.getTime())
    return `scheduled: starts at ${startAt.toISOString()}`;
  for (const group of groups) {
    const state = windowState(group.windows, now);
    if (!state.open) {
      return state.opensAt
        ? `waiting for the maintenance window of group ${group.name}: opens at ${state.opensAt.toISOString()}`
        : `waiting for the maintenance window of group ${group.name}`;
    }
  }
  return null;
}
