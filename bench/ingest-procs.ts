// The processes of bench/ingest.ts and how it reads them: CPU time from /proc, the influxd that
// startInflux started, the device processes (IPC), and the hub's counters (GET /metrics).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HubProcess } from '../test/support/hub.js';
import type { ChildMessage, ChildMessageType, ParentMessage, PublishCounts } from './ingest-ipc.js';

const CLIENTS_JS = fileURLToPath(new URL('./ingest-clients.js', import.meta.url));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** For the readings figures are computed from; samples in between pass a shorter timeout. */
const SCRAPE_TIMEOUT_MS = 30_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** User + system CPU time of a process in ms (/proc/PID/stat fields 14 and 15). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Busy and total CPU time of the whole machine, in ticks (/proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  // idle + iowait
  return { busy: total - values[3] - (values[4] ?? 0), total };
}

/** The influxd this process started (startInflux does not expose it): our child named influxd. */
export function influxdPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === 'influxd' && ppid === process.pid) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error('no influxd child of this process');
}

/** The folder of the config file influxd was started with (startInflux's temporary folder). */
export function influxDirOf(pid: number): string | null {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const config = argv[argv.indexOf('-config') + 1];
  return config?.includes('sentinel-influx-') ? dirname(config) : null;
}

/** A device process, spoken to by request/reply over IPC; every wait is bounded. */
export class ClientsProcess {
  private readonly inbox: ChildMessage[] = [];
  private readonly waiters: {
    type: ChildMessageType;
    resolve: (m: ChildMessage) => void;
    reject: (e: Error) => void;
  }[] = [];
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'failed') return this.failAll(new Error(`${name}: ${message.error}`));
      const index = this.waiters.findIndex((w) => w.type === message.type);
      if (index === -1) this.inbox.push(message);
      else this.waiters.splice(index, 1)[0].resolve(message);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.failAll(new Error(`${name} exited (${signal ?? code})`));
        resolve();
      }),
    );
  }

  static start(name: string): ClientsProcess {
    return new ClientsProcess(
      name,
      spawn(process.execPath, [CLIENTS_JS], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T extends ChildMessageType>(
    message: ParentMessage,
    reply: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const answer = this.expect(reply, timeoutMs);
    this.child.send(message);
    return answer;
  }

  private expect<T extends ChildMessageType>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const queued = this.inbox.findIndex((m) => m.type === type);
    if (queued !== -1)
      return Promise.resolve(this.inbox.splice(queued, 1)[0] as Extract<ChildMessage, { type: T }>);
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.reject(new Error(`${this.name} exited before '${type}'`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no '${type}' from ${this.name} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const waiter = {
        type,
        resolve: (m: ChildMessage) => {
          clearTimeout(timer);
          resolve(m as Extract<ChildMessage, { type: T }>);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Asks the clients to disconnect cleanly; kills the process if that does not end it in time. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        await this.request({ type: 'close' }, 'closed', 30_000);
      } catch {
        this.child.kill('SIGKILL');
      }
    }
    await this.exited;
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

export interface HubCounters {
  received: number;
  written: number;
  overflow: number;
  invalid: number;
  failures: number;
}

/** GET over a connection of its own: no keep-alive socket the hub may close as it is reused. */
export function getText(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: false, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

export async function hubCounters(
  hub: HubProcess,
  timeoutMs = SCRAPE_TIMEOUT_MS,
): Promise<HubCounters> {
  let answer: { status: number; text: string };
  try {
    answer = await getText(`${hub.url}/metrics`, timeoutMs);
  } catch (error) {
    await sleep(500);
    const exit = hub.child.exitCode ?? hub.child.signalCode;
    throw new Error(
      `GET /metrics: ${String(error)}${exit === null ? '' : `; the hub exited (${exit}):\n${hub.output().slice(-3000)}`}`,
      { cause: error },
    );
  }
  if (answer.status !== 200) throw new Error(`GET /metrics: HTTP ${answer.status}`);
  const { text } = answer;
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  return {
    received: value('sentinel_telemetry_received_total'),
    written: value('sentinel_telemetry_written_total'),
    overflow: value('sentinel_telemetry_dropped_total{reason="overflow"}'),
    invalid: value('sentinel_telemetry_dropped_total{reason="invalid"}'),
    failures: value('sentinel_telemetry_write_failures_total'),
  };
}

/** Points received and neither written nor dropped yet. */
export const backlogOf = (c: HubCounters) => c.received - c.written - c.overflow;

export interface Snapshot {
  at: number;
  hub: HubCounters;
  /** How long GET /metrics took: the hub's event loop, as any API caller sees it. */
  scrapeMs: number;
  clients: PublishCounts;
  cpuMs: { hub: number; influxd: number; clients: number; bench: number };
  machine: { busy: number; total: number };
}

export interface Running {
  hub: HubProcess;
  /** Null while InfluxDB is stopped (--outage). */
  influxdPid: number | null;
  clients: ClientsProcess[];
}

/** The hub's counters, or null when it did not answer in time (but is still running). */
export async function maybeCounters(
  hub: HubProcess,
  timeoutMs: number,
): Promise<HubCounters | null> {
  try {
    return await hubCounters(hub, timeoutMs);
  } catch (error) {
    if (hub.child.exitCode !== null || hub.child.signalCode !== null) throw error;
    return null;
  }
}

export async function clientCounts(run: Running): Promise<PublishCounts> {
  const replies = await Promise.all(
    run.clients.map((c) => c.request({ type: 'count' }, 'count', 10_000)),
  );
  const clients: PublishCounts = { published: 0, heldBack: 0, behind: 0, offline: 0, closed: 0 };
  for (const reply of replies)
    for (const key of Object.keys(clients) as (keyof PublishCounts)[]) clients[key] += reply[key];
  return clients;
}

export async function snapshot(run: Running): Promise<Snapshot> {
  const asked = performance.now();
  let scrapeMs = NaN;
  const [hub, clients] = await Promise.all([
    hubCounters(run.hub).then((c) => {
      scrapeMs = performance.now() - asked;
      return c;
    }),
    clientCounts(run),
  ]);
  return {
    at: performance.now(),
    hub,
    scrapeMs,
    clients,
    cpuMs: {
      hub: cpuMsOf(run.hub.child.pid!),
      influxd: run.influxdPid === null ? NaN : cpuMsOf(run.influxdPid),
      clients: run.clients.reduce((sum, c) => sum + cpuMsOf(c.pid), 0),
      bench: cpuMsOf(process.pid),
    },
    machine: machineTicks(),
  };
}
