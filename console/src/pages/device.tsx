import { useState } from 'preact/hooks';
import {
  get,
  patch,
  post,
  type DeviceDto,
  type DeviceWithCredentialsDto,
  type GroupListDto,
} from '../api.js';
import { formatCapabilities } from '../../../src/cli/capabilities-line.js';
import { TelemetryCharts } from '../chart.js';
import { Dl, ErrorBox, Field, Section, ago, time } from '../components.js';
import { useAction, useLoad } from '../hooks.js';
import { useCan } from '../session.js';
import { Credential } from './fleet.js';
import { summarize } from './fleet-state.js';

export function DevicePage({ id }: { id: string }) {
  const can = useCan('operator');
  const path = `/api/v1/devices/${encodeURIComponent(id)}`;
  const device = useLoad(
    () => get<DeviceDto>(path),
    [id],
    (e) => e.kind === 'devices' && ((e.data.ids as string[]).includes(id) || e.data.more === true),
  );
  const groups = useLoad(() => get<GroupListDto>('/api/v1/groups'), []);
  const [credential, setCredential] = useState<DeviceWithCredentialsDto | null>(null);
  const [target, setTarget] = useState('');
  const action = useAction();
  const d = device.data;
  if (!d)
    return <>{device.error ? <ErrorBox error={device.error} /> : <p role="status">Loading…</p>}</>;
  const s = summarize(d);
  return (
    <>
      <h1>Device {d.id}</h1>
      <ErrorBox error={device.error} />
      {credential && <Credential device={credential} onClose={() => setCredential(null)} />}
      <Dl
        items={[
          ['Name', d.name],
          ['Online', d.online ? 'online' : 'offline'],
          ['Group', d.group ?? 'none (the broker refuses it until moved)'],
          ['Environment', d.environment],
          ['Active slot', s.activeSlot],
          [
            'Version',
            s.active ? `${s.active.version}${s.active.loaded ? '' : ' (not loaded)'}` : null,
          ],
          ['Standby', s.standby?.version ?? null],
          ['Deployment phase', s.phase],
          ['Failure', s.failure],
          ['Agent', d.agent_version],
          ['Capabilities', formatCapabilities(d.capabilities)],
          ['Last report', `${ago(d.last_seen_at)} (${time(d.last_seen_at)})`],
          ['Credential rotated', time(d.credential_rotated_at)],
        ]}
      />
      {can && (
        <Section title="Manage">
          <div class="inline-form">
            <Field label="Move to group">
              <select
                value={target}
                onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}
              >
                <option value="">choose…</option>
                {(groups.data?.items ?? [])
                  .filter((g) => g.name !== d.group)
                  .map((g) => (
                    <option key={g.name}>{g.name}</option>
                  ))}
              </select>
            </Field>
            <button
              type="button"
              disabled={!target || action.busy}
              onClick={async () => {
                if (await action.run(() => patch(path, { group: target }))) device.reload();
              }}
            >
              Move
            </button>
            <button
              type="button"
              disabled={action.busy}
              onClick={async () => {
                if (
                  !confirm(
                    `Rotate the credential of ${d.id}? Its agent is disconnected until it gets the new one.`,
                  )
                )
                  return;
                const rotated = await action.run(() =>
                  post<DeviceWithCredentialsDto>(`${path}/rotate-credentials`),
                );
                if (rotated) setCredential(rotated);
              }}
            >
              Rotate credential
            </button>
          </div>
          <ErrorBox error={action.error} />
        </Section>
      )}
      <Section title="Telemetry">
        <TelemetryCharts
          filter={{ device: d.id }}
          by="device"
          label={(x) => `version ${x.model_version.slice(0, 8)}`}
        />
      </Section>
    </>
  );
}
