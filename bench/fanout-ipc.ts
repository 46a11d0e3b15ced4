// Messages between bench/fanout.ts (the hub's process) and bench/fanout-clients.ts (the devices).

export interface DeviceLogin {
  id: string;
  password: string;
}

export type ParentMessage =
  | {
      type: 'connect';
      url: string;
      topic: string;
      devices: DeviceLogin[];
      /** Clients between CONNECT and SUBACK at any one time. */
      concurrency: number;
      /** Per client, CONNECT to SUBACK. */
      clientTimeoutMs: number;
    }
  | { type: 'measure'; modelId: string; timeoutMs: number }
  | { type: 'close' };

/** Wall-clock instants in ms (performance.timeOrigin + performance.now()), comparable across processes. */
export interface ReceiptTimes {
  first: number;
  p50: number;
  p99: number;
  last: number;
}

export type ChildMessage =
  | {
      type: 'ready';
      connected: number;
      failed: number;
      /** The most common failure reasons with their counts. */
      errors: [string, number][];
      stormMs: number;
    }
  | { type: 'armed' }
  | {
      type: 'received';
      /** Clients that were connected when the measurement started. */
      expected: number;
      received: number;
      /** Null when nothing arrived. */
      times: ReceiptTimes | null;
      timedOut: boolean;
      /** Clients whose connection closed since they subscribed. */
      dropped: number;
    }
  | { type: 'closed' }
  | { type: 'failed'; error: string };

export type ChildMessageType = ChildMessage['type'];

/** Nearest-rank percentile of an ascending, non-empty list. */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Wall-clock ms with sub-ms resolution; both processes use it so their instants compare. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
