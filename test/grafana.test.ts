import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import {
  DATASOURCE_UID,
  dashboardQueries,
  emptyOrError,
  flatPanels,
  influxQuery,
  influxWrite,
  interpolate,
  loadDashboards,
  referencedVariables,
  repoRoot,
  tagValues,
  toLine,
  variablesOutsideRegex,
  type DashboardJson,
  type InfluxResult,
  type LinePoint,
} from './support/grafana.js';
import { checkDashboardSchema, formatProblems } from './support/grafana-schema.js';
import { skipWithoutInflux, startInflux, type InfluxServer } from './support/influx.js';

const dashboards = loadDashboards();
const byFile = (file: string): DashboardJson => {
  const found = dashboards.find((d) => d.file === file);
  assert.ok(found, `grafana/dashboards/${file} is missing`);
  return found.json;
};

describe('Grafana dashboards', () => {
  it('are the fleet, deployment and device dashboards, provisioned from the folder compose mounts', () => {
    assert.deepEqual(
      dashboards.map((d) => d.file),
      ['deployment-health.json', 'device-detail.json', 'fleet-overview.json'],
    );
    const uids = dashboards.map((d) => d.json.uid);
    assert.equal(new Set(uids).size, uids.length, 'dashboard uids are unique');
    for (const uid of uids) assert.match(uid, /^[a-zA-Z0-9_-]{1,40}$/);

    const compose = parseYaml(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as {
      services: { grafana: { volumes: string[] } };
    };
    const mounts = new Map(
      compose.services.grafana.volumes.map((v) => {
        const [source, target] = v.split(':');
        return [source, target];
      }),
    );
    const provider = parseYaml(
      readFileSync(join(repoRoot, 'grafana/provisioning/dashboards/sentinel.yaml'), 'utf8'),
    ) as { providers: { type: string; options: { path: string } }[] };
    assert.equal(provider.providers.length, 1);
    assert.equal(provider.providers[0]!.type, 'file');
    assert.equal(provider.providers[0]!.options.path, mounts.get('./grafana/dashboards'));
    assert.equal(mounts.get('./grafana/provisioning'), '/etc/grafana/provisioning');

    const datasources = parseYaml(
      readFileSync(join(repoRoot, 'grafana/provisioning/datasources/influxdb.yaml'), 'utf8'),
    ) as { datasources: { uid: string; type: string; jsonData: Record<string, string> }[] };
    const influx = datasources.datasources.find((d) => d.uid === DATASOURCE_UID);
    assert.ok(influx, `a provisioned data source with uid ${DATASOURCE_UID}`);
    assert.equal(influx.type, 'influxdb');
    assert.equal(influx.jsonData.version, 'InfluxQL');
    assert.equal(influx.jsonData.dbName, 'sentinel');
  });

  it("conform to Grafana's dashboard schema (@grafana/schema, per panel plugin too)", () => {
    const problems = checkDashboardSchema(dashboards);
    assert.equal(problems.length, 0, formatProblems(problems));
  });

  it('a malformed copy fails the schema check, with the place and the reason', () => {
    const fleet = byFile('fleet-overview.json');
    const broken: [string, (d: DashboardJson & Record<string, unknown>) => void, RegExp][] = [
      [
        'misspelt key',
        (d) => ((d.panels[0] as unknown as Record<string, unknown>).titel = 'x'),
        /'"titel"' does not exist/,
      ],
      [
        'schemaVersion as a string',
        (d) => (d.schemaVersion = '41' as unknown as number),
        /not assignable to type 'number'/,
      ],
      [
        'gridPos without w',
        (d) => delete (d.panels[1]!.gridPos as Partial<{ w: number }>).w,
        /Property 'w' is missing/,
      ],
      [
        'unknown legend mode',
        (d) => (get(d, 'panels.4.options.legend').displayMode = 'lists'),
        /"lists"' is not assignable/,
      ],
      [
        'unknown variable type',
        (d) => (d.templating.list[0]!.type = 'quer'),
        /"quer"' is not assignable/,
      ],
      ['unknown panel type', (d) => (d.panels[2]!.type = 'graph'), /"graph"' is not assignable/],
      [
        'target without refId',
        (d) => delete (d.panels[4]!.targets![0] as Partial<{ refId: string }>).refId,
        /Property 'refId' is missing/,
      ],
      [
        'annotation target key misspelt',
        (d) => (get(d, 'annotations.list.1.target').textColum = 'text'),
        /'"textColum"' does not exist/,
      ],
    ];
    for (const [what, mutate, expected] of broken) {
      const copy = structuredClone(fleet) as DashboardJson & Record<string, unknown>;
      mutate(copy);
      const problems = checkDashboardSchema([{ file: 'broken.json', json: copy }]);
      assert.ok(problems.length > 0, `${what}: the schema check found nothing`);
      assert.match(formatProblems(problems), expected, what);
      assert.ok(
        problems.every((p) => p.where.startsWith('broken.json')),
        formatProblems(problems),
      );
    }
  });

  it('keep to the conventions the query test relies on', () => {
    for (const { file, json } of dashboards) {
      assert.ok(json.schemaVersion >= 39 && json.schemaVersion <= 41, `${file}: schemaVersion`);
      const panels = flatPanels(json);
      assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, `${file}: panel ids`);
      const cells = new Set<string>();
      for (const panel of panels) {
        const where = `${file} panel ${panel.id} "${panel.title}"`;
        assert.equal(panel.datasource?.uid, DATASOURCE_UID, `${where}: datasource`);
        const { x, y, w, h } = panel.gridPos;
        assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0 && y >= 0, `${where}: gridPos`);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            assert.ok(!cells.has(`${i},${j}`), `${where} overlaps another panel`);
            cells.add(`${i},${j}`);
          }
        }
        const refIds = (panel.targets ?? []).map((t) => t.refId);
        assert.ok(refIds.length > 0, `${where}: no query`);
        assert.equal(new Set(refIds).size, refIds.length, `${where}: refIds`);
        for (const t of panel.targets ?? []) {
          assert.equal(t.datasource?.uid, DATASOURCE_UID, `${where} ${t.refId}: datasource`);
          const tagAlias = /\$tag_(\w+)/.exec(t.alias ?? '');
          if (tagAlias) {
            assert.match(t.query, new RegExp(`GROUP BY .*"${tagAlias[1]}"`), `${where}: alias`);
          }
        }
      }
      const defined: string[] = [];
      for (const v of json.templating.list) {
        // A variable's query may only use variables defined above it (Grafana resolves in order).
        const query = typeof v.query === 'string' ? v.query : '';
        for (const name of referencedVariables(query)) {
          assert.ok(defined.includes(name), `${file}: $${v.name} uses $${name} before it`);
        }
        defined.push(v.name);
      }
      for (const q of dashboardQueries(json)) {
        const where = `${file} ${q.where}`;
        for (const name of referencedVariables(q.query)) {
          assert.ok(defined.includes(name), `${where}: $${name} is not a dashboard variable`);
        }
        assert.deepEqual(
          variablesOutsideRegex(q.query),
          [],
          `${where}: a $variable outside =~ /.../`,
        );
        assert.doesNotMatch(
          q.query,
          /(?<![$"])\bgroup\b(?!")(?!\s+BY\b)/i,
          `${where}: unquoted "group"`,
        );
        if (/^\s*SELECT\b/i.test(q.query)) {
          assert.match(q.query, /\$timeFilter/, `${where}: without $timeFilter`);
          assert.doesNotMatch(q.query, /time\(\d/, `${where}: a fixed GROUP BY time()`);
        }
      }
    }
  });
});

function get(o: unknown, path: string): Record<string, unknown> {
  let at = o;
  for (const key of path.split('.')) at = (at as Record<string, unknown>)[key];
  return at as Record<string, unknown>;
}

// ---------------------------------------------------------------- against a real InfluxDB

const DB = 'sentinel';
const RP = 'sentinel';
const DEPLOYMENT = '3f6c2a9e-8b1d-4c7a-9e5f-1d2b3c4d5e6f';
const MINUTE = 60_000;
const devices = [
  { id: 'cam-01', group: 'dock-a', environment: 'production', cohort: true },
  { id: 'cam-02', group: 'dock-a', environment: 'production', cohort: false },
  { id: 'cam-03', group: 'dock-a', environment: 'production', cohort: false },
  { id: 'cam-04', group: 'line.2', environment: 'production', cohort: true },
  { id: 'cam-05', group: 'line.2', environment: 'production', cohort: false },
  { id: 'cam-06', group: 'line.2', environment: 'production', cohort: false },
  // Not in the deployment: another environment, no deployment tag.
  { id: 'bench-01', group: 'bench', environment: 'staging', cohort: false },
];
const DEGRADED_TEXT =
  'p95 latency +33.3% (60.1 ms vs 45.1 ms) > 30%; FPS -22.4% (19.6 vs 25.3) > 20%; cohort "1.5.0" on 2 devices, 96 samples \\ baseline 4';

/**
 * A canary of det-yolo 1.5.0 over 1.4.0 on two groups: created 30 min ago, cohort (cam-01, cam-04)
 * cut over 25 min ago, judged degraded and rolled back 8 min ago. Telemetry every 10 s for 40 min.
 */
function seed(now: number): { telemetry: LinePoint[]; events: LinePoint[] } {
  const created = now - 30 * MINUTE;
  const cutover = now - 25 * MINUTE;
  const rolledBack = now - 8 * MINUTE;
  const telemetry: LinePoint[] = [];
  for (let t = now - 40 * MINUTE, i = 0; t < now; t += 10_000, i++) {
    for (const d of devices) {
      const inDeployment = d.environment === 'production' && t >= created;
      const onNew = d.cohort && t >= cutover && t < rolledBack;
      // Shadow phase: the cohort runs 1.5.0 from its standby slot on samples before the cutover.
      const shadowing = d.cohort && t >= created && t < cutover;
      const fps = onNew ? 19.2 + (i % 5) * 0.2 : 25 + (i % 7) * 0.1;
      const p95 = onNew ? 60 + (i % 3) : 45 + (i % 4) * 0.2;
      telemetry.push({
        measurement: 'telemetry',
        tags: {
          device: d.id,
          group: d.group,
          environment: d.environment,
          deployment: inDeployment ? DEPLOYMENT : 'none',
          model_id: 'det-yolo',
          model_version: onNew ? '1.5.0' : '1.4.0',
          slot: onNew ? 'green' : 'blue',
        },
        fields: {
          device_id: d.id,
          frames: { int: Math.round(fps * 10) },
          fps,
          latency_p50: p95 * 0.7,
          latency_p95: p95,
          latency_max: p95 * 1.4,
          memory_mb: onNew ? 530 + (i % 4) : 480 + (i % 3),
          errors: { int: onNew ? i % 3 : i % 10 === 0 ? 1 : 0 },
          window_s: 10,
          // mAP only when known: every other window.
          ...(i % 2 === 0 ? { map: onNew ? 0.61 : 0.64 } : {}),
          ...(shadowing
            ? {
                shadow_model_id: 'det-yolo',
                shadow_model_version: '1.5.0',
                shadow_comparison: 'boxes',
                shadow_samples: { int: 25 },
                shadow_dropped: { int: i % 4 === 0 ? 1 : 0 },
                shadow_errors: { int: 0 },
                shadow_latency_p50: 42,
                shadow_latency_p95: 60 + (i % 3),
                shadow_active_latency_p50: 31,
                shadow_active_latency_p95: p95,
                shadow_agreement: 0.9 + (i % 5) * 0.01,
              }
            : {}),
        },
        timeMs: t + ((devices.indexOf(d) * 97) % 1000),
      });
    }
  }
  const event = (timeMs: number, type: string, text: string, actor: string): LinePoint => ({
    measurement: 'deployment_events',
    tags: { deployment: DEPLOYMENT, type, environment: 'production' },
    fields: { text, model_version: '1.5.0', actor, groups: 'dock-a,line.2' },
    timeMs,
  });
  const events = [
    event(created, 'created', 'canary 1.4.0 -> 1.5.0 on dock-a, line.2: 2 of 6 devices', 'admin'),
    event(cutover, 'cutover', 'cohort cam-01, cam-04 staged; cut over to slot green', 'rollout'),
    event(now - 15 * MINUTE, 'step', 'healthy: FPS -1.2%, p95 +2.0%', 'rules'),
    event(rolledBack - 1000, 'degraded', DEGRADED_TEXT, 'rules'),
    event(rolledBack, 'rolled_back', `degraded: ${DEGRADED_TEXT}`, 'rules'),
  ];
  return { telemetry, events };
}

type Selection = Record<string, 'all' | string[]>;

interface DashboardRun {
  problems: string[];
  answers: Map<string, InfluxResult>;
  variables: Record<string, string[]>;
}

function parseInterval(text: string | undefined): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text ?? '');
  if (!m) return 0;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/**
 * What Grafana does on opening a dashboard: resolve the query variables in order (each one's
 * values from its SHOW TAG VALUES, the selection among them), then run every annotation and
 * panel query with the variables, the time range and the interval substituted. A query that
 * fails or comes back empty is a problem.
 */
async function runDashboard(
  url: string,
  dashboard: DashboardJson,
  selection: Selection,
  range: { fromMs: number; toMs: number },
): Promise<DashboardRun> {
  const problems: string[] = [];
  const answers = new Map<string, InfluxResult>();
  const selected: Record<string, string[]> = {};
  const offered: Record<string, string[]> = {};
  // Grafana's auto interval for a 1 h range on a wide panel is a few seconds; the panels'
  // minimum interval (their `interval`) wins over it.
  const autoMs = 5_000;
  for (const q of dashboardQueries(dashboard)) {
    const intervalMs = Math.max(autoMs, parseInterval(q.panel?.interval));
    let text: string;
    try {
      text = interpolate(q.query, { variables: selected, ...range, intervalMs });
    } catch (error) {
      problems.push(`${q.where}: ${(error as Error).message}`);
      continue;
    }
    const answer = await influxQuery(url, DB, text);
    if (answer.result) answers.set(q.where, answer.result);
    const why = emptyOrError(answer);
    if (why) problems.push(`${q.where}: ${why}\n    ${text}`);
    if (q.kind === 'variable') {
      const name = q.variable!.name;
      const values = tagValues(answer.result);
      offered[name] = values;
      const want = selection[name];
      if (!want) {
        problems.push(`${q.where}: the test selects no value for it`);
        continue;
      }
      if (want !== 'all') {
        if (!q.variable!.multi && want.length !== 1) problems.push(`${q.where}: not multi-value`);
        const missing = want.filter((v) => !values.includes(v));
        if (missing.length)
          problems.push(`${q.where}: ${missing.join(', ')} not among ${values.join(', ')}`);
      } else if (!q.variable!.includeAll) {
        problems.push(`${q.where}: has no All option`);
      }
      selected[name] = want === 'all' ? values : want;
    }
  }
  return { problems, answers, variables: offered };
}

describe('Grafana dashboards against a real InfluxDB', { skip: skipWithoutInflux }, () => {
  let influx: InfluxServer;
  let range: { fromMs: number; toMs: number };

  before(async () => {
    influx = await startInflux();
    // As the hub does at start: the database and a default retention policy, written to by name.
    for (const q of [
      `CREATE DATABASE "${DB}"`,
      `CREATE RETENTION POLICY "${RP}" ON "${DB}" DURATION 30d REPLICATION 1 DEFAULT`,
    ]) {
      const answer = await influxQuery(influx.url, DB, q);
      assert.equal(answer.status, 200, answer.raw);
      assert.equal(answer.result?.error, undefined, answer.raw);
    }
    const now = Date.now();
    const { telemetry, events } = seed(now);
    await influxWrite(influx.url, DB, telemetry, RP);
    await influxWrite(influx.url, DB, events, RP);
    range = { fromMs: now - 60 * MINUTE, toMs: now };
  });

  after(async () => {
    await influx?.stop();
  });

  it('the line protocol helper escapes tag values and string fields so they read back intact', async () => {
    const tricky = 'a b,c=d\\e';
    const text = 'say "hi", \\ then = go';
    assert.equal(
      toLine({
        measurement: 'escape_check',
        tags: { k: tricky },
        fields: { text, n: { int: 3 } },
        timeMs: 1,
      }),
      'escape_check,k=a\\ b\\,c\\=d\\e text="say \\"hi\\", \\\\ then = go",n=3i 1',
    );
    await influxWrite(influx.url, DB, [
      {
        measurement: 'escape_check',
        tags: { k: tricky },
        fields: { text, n: { int: 3 } },
        timeMs: range.toMs,
      },
    ]);
    const answer = await influxQuery(influx.url, DB, `SELECT "text", "k", "n" FROM "escape_check"`);
    assert.deepEqual(answer.result?.series?.[0]?.values?.[0]?.slice(1), [text, tricky, 3]);
    await influxQuery(influx.url, DB, 'DROP MEASUREMENT "escape_check"');
  });

  const scenarios: [string, Selection][] = [
    [
      'All selected',
      { environment: 'all', group: 'all', deployment: [DEPLOYMENT], device: ['cam-01'] },
    ],
    [
      'one value each',
      {
        environment: ['production'],
        group: ['line.2'],
        deployment: [DEPLOYMENT],
        device: ['cam-04'],
      },
    ],
  ];
  for (const [name, selection] of scenarios) {
    it(`every panel, annotation and variable query returns data (${name})`, async () => {
      let queries = 0;
      for (const { file, json } of dashboards) {
        const run = await runDashboard(influx.url, json, selection, range);
        assert.deepEqual(run.problems, [], `${file}:\n${run.problems.join('\n')}`);
        queries += run.answers.size;
      }
      assert.ok(queries >= 30, `ran ${queries} queries`);
    });
  }

  it('variables offer the seeded values, and chained ones follow the selection above them', async () => {
    const device = byFile('device-detail.json');
    const all = await runDashboard(
      influx.url,
      device,
      { environment: 'all', group: 'all', device: ['cam-01'] },
      range,
    );
    assert.deepEqual(all.variables.environment, ['production', 'staging']);
    assert.deepEqual(all.variables.group, ['bench', 'dock-a', 'line.2']);
    assert.deepEqual(all.variables.device, devices.map((d) => d.id).sort());
    const staging = await runDashboard(
      influx.url,
      device,
      { environment: ['staging'], group: 'all', device: ['bench-01'] },
      range,
    );
    assert.deepEqual(staging.variables.group, ['bench']);
    assert.deepEqual(staging.variables.device, ['bench-01']);
    const health = await runDashboard(
      influx.url,
      byFile('deployment-health.json'),
      { environment: 'all', deployment: [DEPLOYMENT] },
      range,
    );
    assert.deepEqual(health.variables.deployment, [DEPLOYMENT], 'no "none" deployment');
  });

  it('deployment health shows the cohort and the baseline as one series each, per metric', async () => {
    const health = byFile('deployment-health.json');
    const run = await runDashboard(
      influx.url,
      health,
      { environment: 'all', deployment: [DEPLOYMENT] },
      range,
    );
    assert.deepEqual(run.problems, []);
    const perVersion = flatPanels(health).filter((p) =>
      p.targets?.some((t) => /GROUP BY .*"model_version"/.test(t.query)),
    );
    assert.ok(perVersion.length >= 6, perVersion.map((p) => p.title).join(', '));
    for (const panel of perVersion) {
      const result = run.answers.get(`panel ${panel.id} "${panel.title}" A`);
      const versions = (result?.series ?? []).map((s) => s.tags?.model_version).sort();
      assert.deepEqual(versions, ['1.4.0', '1.5.0'], panel.title);
    }
    // The comparison table: the cohort is slower, has the higher p95 and the higher error rate.
    const table = flatPanels(health).find((p) => p.type === 'table' && /baseline/.test(p.title))!;
    const rows = new Map(
      (run.answers.get(`panel ${table.id} "${table.title}" A`)?.series ?? []).map((s) => [
        s.tags!.model_version!,
        Object.fromEntries(s.columns.map((c, i) => [c, s.values![0]![i]])) as Record<
          string,
          number
        >,
      ]),
    );
    const cohort = rows.get('1.5.0')!;
    const baseline = rows.get('1.4.0')!;
    assert.ok(cohort.fps! < baseline.fps!, 'fps');
    assert.ok(cohort['p95 ms']! > baseline['p95 ms']!, 'p95');
    assert.ok(cohort['error rate']! > baseline['error rate']!, 'error rate');
    assert.ok(cohort['error rate']! > 0 && cohort['error rate']! < 1);
    assert.equal(cohort.devices, 2);
    assert.equal(baseline.devices, 6);
  });

  it('deployment health shows the shadow phase: agreement, and candidate vs serving p95', async () => {
    const health = byFile('deployment-health.json');
    const run = await runDashboard(
      influx.url,
      health,
      { environment: 'all', deployment: [DEPLOYMENT] },
      range,
    );
    const values = (title: string, refId: string) => {
      const panel = flatPanels(health).find((p) => p.title === title)!;
      const series = run.answers.get(`panel ${panel.id} "${panel.title}" ${refId}`)?.series ?? [];
      assert.equal(series.length, 1, `${title} ${refId}: one series`);
      return series[0]!.values!.map((row) => row[1] as number);
    };
    const agreement = values('Shadow agreement', 'A');
    assert.ok(
      agreement.length > 0 && agreement.every((a) => a >= 0.9 - 1e-9 && a <= 0.94 + 1e-9),
      `${agreement}`,
    );
    const title = 'Shadow p95 latency: candidate vs serving';
    const candidate = values(title, 'A');
    const serving = values(title, 'B');
    assert.equal(candidate.length, serving.length);
    assert.ok(
      candidate.every((c, i) => c > serving[i]!),
      'the candidate is the slower one',
    );
  });

  it('annotations bring the transitions with their text, figures intact', async () => {
    const health = byFile('deployment-health.json');
    const run = await runDashboard(
      influx.url,
      health,
      { environment: 'all', deployment: [DEPLOYMENT] },
      range,
    );
    const column = (where: string, name: string) => {
      const series = run.answers.get(where)?.series?.[0];
      const i = series?.columns.indexOf(name) ?? -1;
      return (series?.values ?? []).map((row) => row[i]);
    };
    const problemsAnno = health.annotations.list.find((a) => /Rollbacks/.test(a.name))!;
    assert.deepEqual(column(`annotation "${problemsAnno.name}"`, 'type'), [
      'degraded',
      'rolled_back',
    ]);
    assert.deepEqual(column(`annotation "${problemsAnno.name}"`, 'text'), [
      DEGRADED_TEXT,
      `degraded: ${DEGRADED_TEXT}`,
    ]);
    const steps = health.annotations.list.find((a) => /Cutover/.test(a.name))!;
    assert.deepEqual(column(`annotation "${steps.name}"`, 'type'), ['created', 'cutover', 'step']);
    for (const a of health.annotations.list.filter((x) => x.target?.query)) {
      const series = run.answers.get(`annotation "${a.name}"`)?.series?.[0];
      assert.ok(series?.columns.includes(a.target!.textColumn!), `${a.name}: textColumn`);
      for (const tag of a.target!.tagsColumn!.split(','))
        assert.ok(series?.columns.includes(tag), `${a.name}: ${tag}`);
    }
  });

  it('a panel whose query returns nothing, or fails, makes the check fail', async () => {
    const fleet = byFile('fleet-overview.json');
    const selection: Selection = { environment: 'all', group: 'all' };
    const clean = await runDashboard(influx.url, fleet, selection, range);
    assert.deepEqual(clean.problems, []);

    const wrongField = structuredClone(fleet);
    const fps = flatPanels(wrongField).find((p) => p.title === 'FPS by model version')!;
    fps.targets![0]!.query = fps.targets![0]!.query.replace('mean("fps")', 'mean("fsp")');
    const run1 = await runDashboard(influx.url, wrongField, selection, range);
    assert.equal(run1.problems.length, 1, run1.problems.join('\n'));
    assert.match(run1.problems[0]!, /^panel \d+ "FPS by model version" A: no series/);

    const wrongMeasurement = structuredClone(fleet);
    wrongMeasurement.annotations.list[1]!.target!.query =
      wrongMeasurement.annotations.list[1]!.target!.query!.replace(
        '"deployment_events"',
        '"deployment_event"',
      );
    wrongMeasurement.templating.list[1]!.query =
      'SHOW TAG VALUES FROM "telemetry" WITH KEY = "groups"';
    const run2 = await runDashboard(influx.url, wrongMeasurement, selection, range);
    assert.ok(
      run2.problems.some((p) => /^annotation .*: no series/.test(p)),
      run2.problems.join('\n'),
    );
    assert.ok(
      run2.problems.some((p) => /^variable \$group: no series/.test(p)),
      run2.problems.join('\n'),
    );

    const syntax = structuredClone(fleet);
    syntax.panels[0]!.targets![0]!.query = syntax.panels[0]!.targets![0]!.query.replace(
      'FROM',
      'FORM',
    );
    const run3 = await runDashboard(influx.url, syntax, selection, range);
    assert.ok(
      run3.problems.some((p) => /^panel 1 .*: (HTTP 400|error)/.test(p)),
      run3.problems.join('\n'),
    );
  });
});
