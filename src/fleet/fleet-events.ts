import { Injectable, Logger } from '@nestjs/common';
import type { DeviceStateReport } from './domain/state-reports.js';

/**
 * Fleet changes, for the live events stream and the broker (retained messages to clear). Those that
 * end MQTT sessions also go to every hub through the ClusterBus (DeviceCredentials.revoke).
 */
export interface FleetEventMap {
  'device.created': { deviceId: string };
  /** Name or labels changed (a change of group is `device.moved`). */
  'device.updated': { deviceId: string };
  /** `retained`: further retained topics of the device to clear (named desired states). */
  'device.deleted': { deviceId: string; retained?: string[] };
  'device.credentials_rotated': { deviceId: string };
  'device.moved': { deviceId: string; from: string | null; to: string | null };
  'group.deleted': { group: string; deviceIds: string[]; retained?: string[] };
  /** A batch of device state reports, after it was written to the devices table. */
  'device.reports': { reports: readonly DeviceStateReport[] };
}

export type FleetEventName = keyof FleetEventMap;
export type FleetEventListener<E extends FleetEventName> = (payload: FleetEventMap[E]) => void;

/**
 * A typed in-process emitter. Events are emitted after the change has committed. A listener that
 * throws is logged and does not stop the others, nor fail the API call that made the change.
 * In-process only: with several hub instances each one hears its own changes.
 */
@Injectable()
export class FleetEvents {
  private readonly logger = new Logger('FleetEvents');
  private readonly listeners = new Map<FleetEventName, Set<(payload: never) => void>>();

  /** Returns a function that removes the listener. */
  on<E extends FleetEventName>(event: E, listener: FleetEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<E extends FleetEventName>(event: E, listener: FleetEventListener<E>): void {
    this.listeners.get(event)?.delete(listener);
  }

  emit<E extends FleetEventName>(event: E, payload: FleetEventMap[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as FleetEventListener<E>)(payload);
      } catch (error) {
        this.logger.error(`a ${event} listener failed: ${(error as Error).message}`);
      }
    }
  }
}
