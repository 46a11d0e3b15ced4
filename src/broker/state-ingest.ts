import { parseMessage, parseTopic, type DeviceState } from '@sentinel/broker';

export interface StateReport {
  deviceId: string;
  online: boolean;
  at: Date;
  reported: DeviceState;
  agentVersion: string | null;
}

export type IngestOutcome =
  | { ok: true; report: StateReport }
  | { ok: false; reason: 'topic' | 'schema' | 'device_mismatch'; detail: string };

/** Turns one `devices/{id}/state` message into a report, or says why it is dropped. Pure. */
export function readStateMessage(topic: string, payload: Buffer): IngestOutcome {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.kind !== 'device_state')
    return { ok: false, reason: 'topic', detail: topic };
  // An empty retained payload clears the retained state (a deleted device): nothing to record.
  const message = parseMessage('device-state', payload);
  if (!message.ok) return { ok: false, reason: 'schema', detail: message.error };
  if (message.value.device_id !== parsed.device) {
    return {
      ok: false,
      reason: 'device_mismatch',
      detail: `${message.value.device_id} on ${topic}`,
    };
  }
  return {
    ok: true,
    report: {
      deviceId: parsed.device,
      online: message.value.online,
      at: new Date(),
      reported: message.value,
      agentVersion: message.value.agent_version ?? null,
    },
  };
}

/**
 * Collects reports and hands them over in batches: one database write per interval instead of one
 * per message, so a reconnect storm of thousands of devices stays a handful of statements.
 */
export class ReportBatcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly intervalMs: number,
    private readonly maxBatch: number,
    private readonly onError: (error: Error) => void,
  ) {}

  add(item: T): void {
    this.pending.push(item);
    if (this.pending.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing
      .then(() => this.write(batch))
      .catch((error: Error) => this.onError(error));
    return this.flushing;
  }
}
