import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import {
  get,
  getOptional,
  post,
  type DeploymentDetailDto,
  type DeploymentHealthDto,
  type HealthCheckDto,
} from '../api.js';
import { TelemetryCharts } from '../chart.js';
import { Dl, ErrorBox, Field, Section, Status, Table, num, time } from '../components.js';
import { useAction, useLoad } from '../hooks.js';
import { Link } from '../router.js';
import { useCan } from '../session.js';

const ACTIVE = ['pending', 'staging', 'in_progress', 'paused'];
const PHASES = [
  'unreported',
  'notified',
  'downloading',
  'verifying',
  'staged',
  'deferred',
  'active',
  'failed',
  'rolled_back',
];

function Phases({ d }: { d: DeploymentDetailDto }) {
  const phases = d.progress.phases;
  const total = Math.max(1, d.progress.targets);
  const names = [...new Set([...PHASES, ...Object.keys(phases)])].filter(
    (p) => (phases[p] ?? 0) > 0,
  );
  return (
    <>
      <p>
        {d.progress.targets} target devices, {d.progress.online} online, {d.progress.participating}{' '}
        in the current step.
      </p>
      <ul class="phases" data-testid="phases">
        {names.map((p) => (
          <li key={p} data-phase={p}>
            <span class="phase-name">{p}</span>
            <span class="bar" aria-hidden="true">
              <span
                class={`fill fill-${p}`}
                style={{ width: `${((phases[p] ?? 0) / total) * 100}%` }}
              />
            </span>
            <span class="phase-count">{phases[p]}</span>
          </li>
        ))}
      </ul>
      <DeviceTable
        caption="Failed devices"
        columns={['Phase', 'Reason', 'Attempts']}
        rows={d.progress.failed_devices.map((f) => ({
          id: f.device_id,
          cells: [f.phase, `${f.reason ?? '—'}${f.detail ? `: ${f.detail}` : ''}`, f.attempts],
        }))}
      />
      <DeviceTable
        caption="Deferred devices (their application holds the update lock)"
        columns={["Application's reason", 'Since']}
        rows={(d.progress.deferred_devices ?? []).map((f) => ({
          id: f.device_id,
          cells: [f.detail ?? f.reason ?? '—', <time dateTime={f.since}>{time(f.since)}</time>],
        }))}
      />
      <DeviceTable
        caption="Skipped devices (incompatible: they keep their model)"
        columns={['Reason']}
        rows={d.progress.skipped_devices.map((s) => ({
          id: s.device_id,
          cells: [`${s.reason}: ${s.detail}`],
        }))}
      />
    </>
  );
}

/** Devices of the deployment in one situation (failed, deferred, skipped), linked to their page. */
function DeviceTable({
  caption,
  columns,
  rows,
}: {
  caption: string;
  columns: string[];
  rows: { id: string; cells: ComponentChildren[] }[];
}) {
  if (rows.length === 0) return null;
  return (
    <Table caption={caption}>
      <thead>
        <tr>
          <th scope="col">Device</th>
          {columns.map((c) => (
            <th scope="col" key={c}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id}>
            <td>
              <Link href={`/fleet/devices/${encodeURIComponent(row.id)}`}>{row.id}</Link>
            </td>
            {row.cells.map((cell, i) => (
              <td key={i}>{cell}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

/** What the canary's current step waits for, in words. */
function waitsFor(d: DeploymentDetailDto): string {
  if (!ACTIVE.includes(d.status))
    return `finished: ${d.status}${d.status_reason ? ` (${d.status_reason})` : ''}`;
  if (d.status === 'paused')
    return `paused${d.status_reason ? `: ${d.status_reason}` : ''}; resume, promote or roll back`;
  const rate = d.rate;
  if (rate && rate.notified_percent < (d.canary?.percent ?? 100))
    return `the rate limit (up to ${rate.max_per_minute}/min) to tell the rest of the ${d.canary ? 'step' : 'devices'}: ${d.progress.participating} of ${d.progress.targets} told so far`;
  if (d.phase === 'staging') return 'devices to download and stage the new version';
  if (d.phase === 'shadow' && d.shadow)
    return `the shadow verification: the new version runs beside the serving one on ${num(d.shadow.sample_rate * 100)} % of the inputs for ${d.shadow.duration_s} s from ${time(d.shadow.since)}, then a healthy verdict cuts over`;
  if (d.phase === 'observing')
    return `the observation: ${d.observe_s} s from ${time(d.observing_since)} with a healthy verdict`;
  if (d.canary) {
    const last = d.canary.step_index >= d.canary.steps.length - 1;
    if (last) return 'every device to run the new version';
    const stepAt = [...d.events]
      .reverse()
      .find((e) => e.type === 'step' || e.type === 'created')?.at;
    const next = stepAt ? new Date(Date.parse(stepAt) + d.canary.step_interval_s * 1000) : null;
    return `the step interval (${d.canary.step_interval_s} s${next ? `, next step at ${time(next.toISOString())}` : ''}) with no degraded verdict, then ${d.canary.steps[d.canary.step_index + 1]} %`;
  }
  return 'devices to switch to the new version';
}

function unitOf(metric: HealthCheckDto['metric']): string {
  return {
    fps: 'frames/s',
    latency_p95: 'ms',
    memory: 'MB',
    error_rate: '%',
    map: '',
    map_floor: '',
    staging_failures: '%',
    agreement: '',
  }[metric];
}

function baselineMs(d: DeploymentDetailDto): number {
  const window = Number(d.rules.window_s);
  return Math.max(60, Number.isFinite(window) ? 2 * window : 120) * 1000;
}

/** The limit as the rules read it: a percent change, mAP points, a share, or the mAP floor. */
function limitOf(c: HealthCheckDto): string {
  if (c.metric === 'map_floor') return num(c.threshold);
  if (c.metric === 'agreement') return `min ${num(c.threshold)}`;
  if (c.metric === 'map') return `-${num(c.threshold)} pts`;
  if (c.metric === 'fps') return `-${num(c.threshold)} %`;
  if (c.metric === 'error_rate' || c.metric === 'staging_failures') return `${num(c.threshold)} %`;
  return `+${num(c.threshold)} %`;
}

function Health({ health }: { health: DeploymentHealthDto }) {
  return (
    <>
      <Dl
        items={[
          ['Verdict', <Status value={health.verdict ?? 'not yet'} />],
          ['Evaluated', time(health.evaluated_at)],
          ['Action', health.action],
          [
            'Baseline',
            health.baseline_kind === 'outside'
              ? 'devices outside the cohort'
              : health.baseline_kind === 'before'
                ? 'the same devices before'
                : '—',
          ],
          [
            'Window',
            health.window ? `${time(health.window.from)} – ${time(health.window.to)}` : '—',
          ],
        ]}
      />
      {health.reasons.length > 0 && (
        <ul class="reasons" data-testid="health-reasons">
          {health.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      {health.checks.length > 0 && (
        <Table caption="Health checks, new version vs baseline" testid="health-checks">
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Status</th>
              <th scope="col">New</th>
              <th scope="col">Baseline</th>
              <th scope="col">Change</th>
              <th scope="col">Limit</th>
              <th scope="col">p-value</th>
            </tr>
          </thead>
          <tbody>
            {health.checks.map((c) => (
              <tr key={c.metric} class={`check-${c.status}`}>
                <th scope="row">{c.metric}</th>
                <td>
                  <Status value={c.status} />
                </td>
                <td>
                  {num(c.cohort)} {unitOf(c.metric)}
                </td>
                <td>
                  {num(c.baseline)} {unitOf(c.metric)}
                </td>
                <td>
                  {c.change === null
                    ? '—'
                    : `${c.change > 0 ? '+' : ''}${num(c.change, 1)} ${c.metric.startsWith('map') ? 'pts' : '%'}`}
                </td>
                <td>
                  {limitOf(c)}
                  {c.floor !== undefined ? ` and ${num(c.floor)} ${unitOf(c.metric)}` : ''}
                </td>
                <td>
                  {c.p_value === undefined || c.p_value === null ? '—' : c.p_value.toExponential(2)}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}

function Actions({ d, onDone }: { d: DeploymentDetailDto; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const action = useAction();
  if (!ACTIVE.includes(d.status)) return null;
  const act = (verb: string) => async () => {
    if (verb === 'rollback' && !confirm('Roll this deployment back on every device?')) return;
    const done = await action.run(() =>
      post(`/api/v1/deployments/${d.id}/${verb}`, reason ? { reason } : {}),
    );
    if (done !== undefined) onDone();
  };
  return (
    <div class="deployment-actions" role="group" aria-label="Deployment actions">
      <Field label="Reason (optional)">
        <input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      </Field>
      <div class="actions">
        {d.status !== 'paused' && (
          <button type="button" onClick={act('pause')} disabled={action.busy}>
            Pause
          </button>
        )}
        {d.status === 'paused' && (
          <button type="button" onClick={act('resume')} disabled={action.busy}>
            Resume
          </button>
        )}
        {d.deployment_type === 'canary' && (
          <button type="button" onClick={act('promote')} disabled={action.busy}>
            Promote
          </button>
        )}
        <button type="button" class="danger" onClick={act('rollback')} disabled={action.busy}>
          Roll back
        </button>
      </div>
      <ErrorBox error={action.error} />
    </div>
  );
}

export function DeploymentPage({ id }: { id: string }) {
  const can = useCan('operator');
  const mine = (e: { kind: string; data: Record<string, unknown> }) =>
    e.kind === 'deployment' && e.data.id === id;
  const detail = useLoad(() => get<DeploymentDetailDto>(`/api/v1/deployments/${id}`), [id], mine);
  const health = useLoad(
    () => getOptional<DeploymentHealthDto>(`/api/v1/deployments/${id}/health`),
    [id],
    mine,
  );
  const d = detail.data;
  if (!d)
    return <>{detail.error ? <ErrorBox error={detail.error} /> : <p role="status">Loading…</p>}</>;
  return (
    <>
      <div class="page-head">
        <h1>
          {d.deployment_type} of {d.model.name} {d.model.version}
        </h1>
        <span data-testid="deployment-status">
          <Status value={d.status} />
        </span>
      </div>
      <ErrorBox error={detail.error} />
      <Dl
        items={[
          [
            'Model',
            <Link href={`/models/${d.model.id}`}>{`${d.model.name} ${d.model.version}`}</Link>,
          ],
          ['Target', `${d.target} (${d.environment}): ${d.groups.map((g) => g.name).join(', ')}`],
          ['Phase', d.phase ?? '—'],
          [
            'Canary step',
            d.canary
              ? `${d.canary.percent} % (step ${d.canary.step_index + 1} of ${d.canary.steps.length}: ${d.canary.steps.join(', ')})`
              : '—',
          ],
          ['Waiting for', <span data-testid="waits-for">{waitsFor(d)}</span>],
          ['Auto rollback', d.auto_rollback ? 'yes' : 'no'],
          ['Created', `${time(d.created_at)} by ${d.created_by}`],
          ['Finished', time(d.finished_at)],
        ]}
      />
      {can && <Actions d={d} onDone={detail.reload} />}
      <Section title="Devices per phase">
        <Phases d={d} />
      </Section>
      <Section title="Health: new version vs baseline">
        <ErrorBox error={health.error} />
        {health.data ? <Health health={health.data} /> : <p>No evaluation yet.</p>}
        <TelemetryCharts
          filter={{ deployment: d.id }}
          metrics={['fps', 'latency_p95', 'memory_mb', 'errors']}
          refreshKey={d.updated_at}
          window={{
            label: 'this deployment',
            // the baseline before the deployment (two rule windows, at least a minute), then its life
            from: new Date(Date.parse(d.created_at) - baselineMs(d)).toISOString(),
            to: d.finished_at ? new Date(Date.parse(d.finished_at) + 10_000).toISOString() : null,
          }}
          label={(s) =>
            s.model_version === d.model.id
              ? `new ${d.model.version}`
              : `baseline ${s.model_version.slice(0, 8)}`
          }
        />
      </Section>
      <Section title="Events">
        <ol class="timeline" data-testid="events">
          {d.events.map((e) => (
            <li key={e.id} data-type={e.type}>
              <time dateTime={e.at}>{time(e.at)}</time> <strong>{e.type}</strong>
              {e.to_status && ` → ${e.to_status}`} <span class="muted">by {e.actor}</span>
              {e.reason && <div>{e.reason}</div>}
              {typeof e.figures.why === 'string' && e.figures.why !== e.reason && (
                <div class="why">{e.figures.why}</div>
              )}
            </li>
          ))}
        </ol>
      </Section>
    </>
  );
}
