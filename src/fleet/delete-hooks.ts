import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** See FleetDeleteHooks.add. */
export type DeleteHook = (
  manager: EntityManager,
  kind: 'group' | 'device',
  id: string,
) => Promise<string[]>;

/**
 * A feature whose rows go with a group or device (ON DELETE CASCADE) and that has retained MQTT
 * messages for them names those topics here, inside the delete's transaction (before the rows go);
 * the fleet's deleted event carries them, and the broker clears them after the commit.
 */
@Injectable()
export class FleetDeleteHooks {
  private readonly hooks: DeleteHook[] = [];

  add(hook: DeleteHook): void {
    this.hooks.push(hook);
  }

  /**
   * The retained topics every hook names for this group (by name) or device (by id), as the
   * deleted event's `retained` (left out when there are none).
   */
  async retainedOf(
    manager: EntityManager,
    kind: 'group' | 'device',
    id: string,
  ): Promise<{ retained?: string[] }> {
    const topics: string[] = [];
    for (const hook of this.hooks) topics.push(...(await hook(manager, kind, id)));
    return topics.length > 0 ? { retained: topics } : {};
  }
}
