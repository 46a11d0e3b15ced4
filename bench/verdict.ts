// The rules' verdict on seeded synthetic fleets (test/support/synthetic-fleet.ts), 1,000 seeds a
// case: how often noise alone is judged degraded (a false rollback), and how often a real 20 % FPS
// drop is (detection), by baseline kind, fleet size and how much devices differ. The hub compares
// with devices outside a canary's cohort only from 5 devices a side (OUTSIDE_MIN_DEVICES); the rows
// below that show why. Pure arithmetic: no hub, no engines; prints a table and asserts nothing.
//   npm run bench:verdict [-- SEEDS]
import { DEFAULT_RULES, evaluateHealth, type BaselineKind } from '../src/rules/domain/health.js';
import { seededRandom as prng } from '@sentinel/broker/testing';
import {
  CAMERA_FLEET,
  devices,
  windowsOf,
  type FleetShape,
} from '../test/support/synthetic-fleet.js';

const seeds = Number(process.argv[2] ?? 1000);
if (!Number.isInteger(seeds) || seeds < 1) {
  console.error('usage: node dist/bench/verdict.js [SEEDS]');
  process.exit(2);
}

interface Case {
  kind: BaselineKind;
  /** Devices on the new version, and on the baseline (outside) or the same ones before. */
  cohort: number;
  outside: number;
  windows: number;
  spread: number;
}

function rate(c: Case, fpsFactor: number): number {
  const shape: FleetShape = { ...CAMERA_FLEET, deviceSpread: c.spread };
  let degraded = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const random = prng(seed);
    const inCohort = devices(random, c.cohort, shape, 'in');
    const baselineFleet = c.kind === 'before' ? inCohort : devices(random, c.outside, shape, 'out');
    const report = evaluateHealth({
      baselineKind: c.kind,
      staging: null,
      mapFloor: null,
      policy: DEFAULT_RULES,
      baseline: windowsOf(random, baselineFleet, '1', c.windows, shape),
      cohort: windowsOf(random, inCohort, '2', c.windows, shape, { fpsFactor }),
    });
    if (report.verdict === 'degraded') degraded++;
  }
  return degraded / seeds;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`.padStart(8);
const cases: Case[] = [];
for (const spread of [0.03, 0.05, 0.08, 0.12]) {
  cases.push({ kind: 'before', cohort: 1, outside: 0, windows: 6, spread });
  cases.push({ kind: 'before', cohort: 5, outside: 0, windows: 6, spread });
  cases.push({ kind: 'outside', cohort: 2, outside: 18, windows: 6, spread });
  cases.push({ kind: 'outside', cohort: 3, outside: 17, windows: 6, spread });
  cases.push({ kind: 'outside', cohort: 5, outside: 15, windows: 6, spread });
  cases.push({ kind: 'outside', cohort: 50, outside: 450, windows: 6, spread });
}
console.log(
  `default rules: alpha ${DEFAULT_RULES.alpha}, fps drop > ${DEFAULT_RULES.fps_drop_pct} % and ${DEFAULT_RULES.fps_min_delta} fps, min ${DEFAULT_RULES.min_samples} windows; ${seeds} seeds a case; windows within ${CAMERA_FLEET.windowNoise * 100} % of the device's level`,
);
console.log('baseline  new  base  windows  device spread  false degraded  20 % drop degraded');
for (const c of cases) {
  const base = c.kind === 'before' ? 'same' : String(c.outside);
  console.log(
    `${c.kind.padEnd(8)}  ${String(c.cohort).padStart(3)}  ${base.padStart(4)}  ${String(c.windows).padStart(7)}  ${`${c.spread * 100} %`.padStart(13)}  ${pct(rate(c, 1)).padStart(14)}  ${pct(rate(c, 0.8)).padStart(18)}`,
  );
}
