/**
 * Which desired state applies to each named model, from what arrived on its topics: per name a
 * group's and a device's desired state (the device's wins, as for `default`), and per topic the
 * last `seq` applied (a message whose seq is not above it is stale). No I/O: the MQTT link feeds
 * it what arrives and hands the changes on.
 */
import { DEFAULT_MODEL_NAME, type DesiredState } from '@sentinel/broker/protocol';
import { effectiveDesired } from './plan.js';

export type DesiredSource = 'group' | 'device';

/** The effective desired state of one name changed; `received` is the one that just arrived. */
export interface DesiredChange {
  name: string;
  desired: DesiredState | null;
  received?: DesiredState;
}

interface Sources {
  group: DesiredState | null;
  device: DesiredState | null;
}

export class DesiredSources {
  private readonly byName = new Map<string, Sources>();
  private readonly lastSeq = new Map<string, number>();

  /** A new MQTT session: the broker sends the retained desired states again; accept them again. */
  forgetSeqs(): void {
    this.lastSeq.clear();
  }

  /** A desired state arrived on `topic` for `name`; null when it is stale (seq not above the last). */
  receive(
    topic: string,
    source: DesiredSource,
    name: string,
    desired: DesiredState,
  ): DesiredChange | null {
    const last = this.lastSeq.get(topic);
    if (last !== undefined && desired.seq <= last) return null;
    this.lastSeq.set(topic, desired.seq);
    const sources = this.sourcesOf(name);
    sources[source] = desired;
    return { name, desired: effectiveDesired(sources.group, sources.device), received: desired };
  }

  /** An empty retained payload on `topic`: that source of `name` has no desired state (any more). */
  clear(topic: string, source: DesiredSource, name: string): DesiredChange {
    this.lastSeq.delete(topic);
    const sources = this.sourcesOf(name);
    sources[source] = null;
    return { name, desired: effectiveDesired(sources.group, sources.device) };
  }

  /**
   * The device left its group: no group desired state applies any more. The changes: `default`
   * always (as before named models), and every named model that had one from the group.
   */
  leaveGroup(): DesiredChange[] {
    const changes: DesiredChange[] = [];
    for (const [name, sources] of this.byName) {
      if (name === DEFAULT_MODEL_NAME || sources.group === null) continue;
      sources.group = null;
      changes.push({ name, desired: sources.device });
    }
    const defaults = this.sourcesOf(DEFAULT_MODEL_NAME);
    defaults.group = null;
    return [{ name: DEFAULT_MODEL_NAME, desired: defaults.device }, ...changes];
  }

  /** The effective desired state of `name` now (null: none). */
  desiredOf(name: string): DesiredState | null {
    const sources = this.byName.get(name);
    return sources ? effectiveDesired(sources.group, sources.device) : null;
  }

  private sourcesOf(name: string): Sources {
    let sources = this.byName.get(name);
    if (!sources) {
      sources = { group: null, device: null };
      this.byName.set(name, sources);
    }
    return sources;
  }
}
