// One load step of bench/ingest.ts (a warm-up, then a window judged from the hub's counters), and
// the optional InfluxDB outage.
import { cpus } from 'node:os';
import type { InfluxServer } from '../test/support/influx.js';
import { rssOf } from '../test/support/rss.js';
import {
  backlogOf,
  clientCounts,
  cpuMsOf,
  hubCounters,
  influxdPid,
  maybeCounters,
  sleep,
  snapshot,
  type Running,
} from './ingest-procs.js';

export const WARMUP_MS = 2_000;
const SAMPLE_MS = 250;
export const SAMPLE_TIMEOUT_MS = 2_000;
/** Backlog growth, as a share of the offered rate, above which the hub is not keeping up. */
const MAX_GROWTH = 0.02;
/** The hub's flush interval and batch size (src/telemetry/telemetry.service.ts). */
export const HUB_FLUSH_S = 0.5;
export const HUB_BATCH = 5000;
export const OUTAGE_SAMPLE_MS = 2_000;
/** After InfluxDB is back: how long the hub gets to work its backlog off (its retry backoff reaches 30 s). */
export const RECOVERY_TIMEOUT_MS = 60_000;

export const perS = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
export const count = (n: number) => Math.round(n).toLocaleString('en-US');

export interface Step {
  offered: number;
  seconds: number;
  published: number;
  received: number;
  written: number;
  overflow: number;
  invalid: number;
  failures: number;
  heldBack: number;
  behind: number;
  offline: number;
  backlogMax: number;
  /** Slowest GET /metrics answer in the window (NaN: some got none within SAMPLE_TIMEOUT_MS). */
  scrapeMaxMs: number;
  /** Least-squares slope of the backlog over the window, points per second. */
  backlogGrowth: number;
  /** % of one core; machine in % of all cores; others: what the rest of the machine used, % of one core. */
  cpu: { hub: number; influxd: number; clients: number; machine: number; others: number };
  hubRssEnd: number;
  hubRssPeak: number;
  keptUp: boolean;
  why: string[];
}

export async function setRate(run: Running, total: number): Promise<void> {
  await Promise.all(
    run.clients.map((c) =>
      c.request({ type: 'rate', perSecond: total / run.clients.length }, 'rate', 10_000),
    ),
  );
}

/** Least-squares slope of y over x. */
export function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den > 0 ? num / den : 0;
}

export async function measureStep(run: Running, offered: number, windowS: number): Promise<Step> {
  await setRate(run, offered);
  await sleep(WARMUP_MS);
  const s0 = await snapshot(run);
  // The backlog saw-tooths with the flush interval; its trend over many samples says whether it grows.
  const backlog: [number, number][] = [[s0.at, backlogOf(s0.hub)]];
  let hubRssPeak = rssOf(run.hub.child.pid!);
  let scrapeMaxMs = s0.scrapeMs;
  let unanswered = 0;
  const until = s0.at + windowS * 1000;
  // Jittered, so that the samples do not lock onto one phase of the flush timer.
  while (performance.now() + SAMPLE_MS < until) {
    await sleep(SAMPLE_MS * (0.6 + 0.8 * Math.random()));
    const asked = performance.now();
    const counters = await maybeCounters(run.hub, SAMPLE_TIMEOUT_MS);
    hubRssPeak = Math.max(hubRssPeak, rssOf(run.hub.child.pid!));
    if (!counters) {
      unanswered++;
      continue;
    }
    scrapeMaxMs = Math.max(scrapeMaxMs, performance.now() - asked);
    backlog.push([performance.now(), backlogOf(counters)]);
  }
  await sleep(Math.max(0, until - performance.now()));
  const s1 = await snapshot(run);
  backlog.push([s1.at, backlogOf(s1.hub)]);
  scrapeMaxMs = Math.max(scrapeMaxMs, s1.scrapeMs);
  const hubRssEnd = rssOf(run.hub.child.pid!);
  const secs = (s1.at - s0.at) / 1000;
  const rate = (a: number, b: number) => (a - b) / secs;
  const cpu = (a: number, b: number) => ((a - b) / 10 / secs) as number;
  const step: Step = {
    offered,
    seconds: secs,
    published: rate(s1.clients.published, s0.clients.published),
    received: rate(s1.hub.received, s0.hub.received),
    written: rate(s1.hub.written, s0.hub.written),
    overflow: s1.hub.overflow - s0.hub.overflow,
    invalid: s1.hub.invalid - s0.hub.invalid,
    failures: s1.hub.failures - s0.hub.failures,
    heldBack: s1.clients.heldBack - s0.clients.heldBack,
    behind: s1.clients.behind - s0.clients.behind,
    offline: s1.clients.offline - s0.clients.offline,
    backlogMax: Math.max(...backlog.map(([, b]) => b)),
    scrapeMaxMs: unanswered > 0 ? NaN : scrapeMaxMs,
    backlogGrowth: slope(backlog.map(([t, b]) => [t / 1000, b])),
    cpu: {
      hub: cpu(s1.cpuMs.hub, s0.cpuMs.hub),
      influxd: cpu(s1.cpuMs.influxd, s0.cpuMs.influxd),
      clients: cpu(s1.cpuMs.clients, s0.cpuMs.clients),
      machine: ((s1.machine.busy - s0.machine.busy) / (s1.machine.total - s0.machine.total)) * 100,
      others: 0,
    },
    hubRssEnd,
    hubRssPeak: Math.max(hubRssPeak, hubRssEnd),
    keptUp: true,
    why: [],
  };
  const ours = ['hub', 'influxd', 'clients', 'bench'] as const;
  step.cpu.others = Math.max(
    0,
    step.cpu.machine * cpus().length -
      ours.reduce((sum, k) => sum + cpu(s1.cpuMs[k], s0.cpuMs[k]), 0),
  );
  if (step.published < 0.95 * offered)
    step.why.push(
      `devices sent ${perS(step.published)} of ${perS(offered)} (held back by the broker ${count(step.heldBack)}, generator late ${count(step.behind)}, offline ${count(step.offline)})`,
    );
  if (step.received < 0.95 * step.published)
    step.why.push(`hub received ${perS(step.received)} of ${perS(step.published)} sent`);
  if (step.overflow > 0) step.why.push(`${count(step.overflow)} dropped (buffer full)`);
  // At low rates 2 % is below what the saw-tooth alone can tilt a fit by: allow one batch per window.
  if (step.backlogGrowth > Math.max(MAX_GROWTH * offered, HUB_BATCH / windowS))
    step.why.push(
      `write backlog grew by ${perS(step.backlogGrowth)} (${((step.backlogGrowth / offered) * 100).toFixed(0)} % of the load; up to ${count(step.backlogMax)} points)`,
    );
  if (step.failures > 0) step.why.push(`${step.failures} failed writes`);
  if (unanswered > 0)
    step.why.push(
      `the hub left ${unanswered} GET /metrics unanswered for ${SAMPLE_TIMEOUT_MS / 1000} s (event loop stalled)`,
    );
  step.keptUp = step.why.length === 0;
  return step;
}

export interface OutageRow {
  /** Seconds since InfluxDB was stopped (negative: before). */
  t: number;
  phase: 'up' | 'down' | 'back';
  sent: number;
  /** Per second since the hub last answered GET /metrics; NaN when it did not answer this time. */
  received: number;
  written: number;
  dropped: number;
  backlog: number;
  hubCpu: number;
  /** GET /metrics time; NaN: no answer within the sampling interval. */
  scrapeMs: number;
}

/**
 * InfluxDB stopped for `downS` seconds under a steady load, then started again: what the hub
 * receives, drops and costs while its buffer fills and overflows, and how long it takes to catch up.
 * A hub too busy to answer GET /metrics within the sampling interval is shown as such.
 */
export async function outage(
  run: Running,
  influx: InfluxServer,
  rate: number,
  downS: number,
): Promise<{ rows: OutageRow[]; recoveredS: number | null }> {
  await setRate(run, rate);
  await sleep(WARMUP_MS);
  const rows: OutageRow[] = [];
  const pid = run.hub.child.pid!;
  let prev = { at: performance.now(), clients: await clientCounts(run), cpuMs: cpuMsOf(pid) };
  let lastHub = { at: performance.now(), counters: await hubCounters(run.hub) };
  let stoppedAt = NaN;
  const take = async (phase: OutageRow['phase']) => {
    await sleep(Math.max(0, prev.at + OUTAGE_SAMPLE_MS - performance.now()));
    const asked = performance.now();
    const [counters, clients] = await Promise.all([
      hubCounters(run.hub, OUTAGE_SAMPLE_MS).catch(() => null),
      clientCounts(run),
    ]);
    const at = performance.now();
    const cpuMs = cpuMsOf(pid);
    const secs = (at - prev.at) / 1000;
    const hubSecs = (at - lastHub.at) / 1000;
    const per = (key: 'received' | 'written' | 'overflow') =>
      counters ? (counters[key] - lastHub.counters[key]) / hubSecs : NaN;
    rows.push({
      t: (at - (Number.isNaN(stoppedAt) ? at : stoppedAt)) / 1000,
      phase,
      sent: (clients.published - prev.clients.published) / secs,
      received: per('received'),
      written: per('written'),
      dropped: per('overflow'),
      backlog: counters ? backlogOf(counters) : NaN,
      hubCpu: (cpuMs - prev.cpuMs) / 10 / secs,
      scrapeMs: counters ? at - asked : NaN,
    });
    prev = { at, clients, cpuMs };
    if (counters) lastHub = { at, counters };
    return counters;
  };
  await take('up');
  await influx.pause();
  run.influxdPid = null;
  stoppedAt = performance.now();
  while (performance.now() - stoppedAt < downS * 1000) await take('down');
  await influx.resume();
  run.influxdPid = influxdPid();
  const resumedAt = performance.now();
  let recoveredS: number | null = null;
  while (performance.now() - resumedAt < RECOVERY_TIMEOUT_MS) {
    const counters = await take('back');
    // Caught up: no more than a flush interval of load and a batch in flight left.
    if (counters && backlogOf(counters) <= rate * HUB_FLUSH_S + HUB_BATCH) {
      recoveredS = (performance.now() - resumedAt) / 1000;
      break;
    }
  }
  await setRate(run, 0);
  return { rows, recoveredS };
}
