import { useState } from 'preact/hooks';
import { get, type DeviceListDto, type GroupListDto, type ModelListDto } from '../api.js';
import { TelemetryCharts } from '../chart.js';
import { ErrorBox, Field } from '../components.js';
import { useLoad } from '../hooks.js';

export function TelemetryPage() {
  const models = useLoad(() => get<ModelListDto>('/api/v1/models', { limit: 200 }), []);
  const devices = useLoad(() => get<DeviceListDto>('/api/v1/devices', { limit: 500 }), []);
  const groups = useLoad(() => get<GroupListDto>('/api/v1/groups'), []);
  const [filter, setFilter] = useState({ model_version: '', device: '', group: '' });
  const [by, setBy] = useState<'model_version' | 'device'>('model_version');
  const versions = new Map((models.data?.items ?? []).map((m) => [m.id, `${m.name} ${m.version}`]));
  const set = (key: keyof typeof filter) => (e: Event) =>
    setFilter({ ...filter, [key]: (e.target as HTMLSelectElement).value });
  return (
    <>
      <h1>Telemetry</h1>
      <ErrorBox error={models.error ?? devices.error ?? groups.error} />
      <form class="filters" aria-label="Telemetry filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Model version">
          <select value={filter.model_version} onChange={set('model_version')}>
            <option value="">all</option>
            {[...versions].map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Device">
          <select value={filter.device} onChange={set('device')}>
            <option value="">all</option>
            {(devices.data?.items ?? []).map((d) => (
              <option key={d.id}>{d.id}</option>
            ))}
          </select>
        </Field>
        <Field label="Group">
          <select value={filter.group} onChange={set('group')}>
            <option value="">all</option>
            {(groups.data?.items ?? []).map((g) => (
              <option key={g.name}>{g.name}</option>
            ))}
          </select>
        </Field>
        <Field label="Series per">
          <select
            value={by}
            onChange={(e) => setBy((e.target as HTMLSelectElement).value as typeof by)}
          >
            <option value="model_version">model version</option>
            <option value="device">device and model version</option>
          </select>
        </Field>
      </form>
      <TelemetryCharts
        filter={{
          model_version: filter.model_version || undefined,
          device: filter.device || undefined,
          group: filter.group || undefined,
        }}
        by={by}
        label={(s) =>
          `${s.device ? `${s.device} · ` : ''}${versions.get(s.model_version) ?? s.model_version.slice(0, 8)}`
        }
      />
    </>
  );
}
