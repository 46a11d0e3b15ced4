import { useState } from 'preact/hooks';
import {
  get,
  post,
  type DeviceListDto,
  type DeviceWithCredentialsDto,
  type GroupListDto,
} from '../api.js';
import { desiredModel } from '../../../src/cli/agent-env.js';
import { ErrorBox, Field, Section, Table, ago } from '../components.js';
import { useAction, useLoad } from '../hooks.js';
import { Link } from '../router.js';
import { useCan } from '../session.js';
import { agentEnv, summarize } from './fleet-state.js';
import { Pager } from './models.js';

/** A new credential, shown once, with the agent's environment lines to copy. */
export function Credential({
  device,
  onClose,
}: {
  device: DeviceWithCredentialsDto;
  onClose: () => void;
}) {
  const env = agentEnv(device, location.origin);
  const [copied, setCopied] = useState(false);
  return (
    <div
      class="credential"
      role="region"
      aria-label={`Credential of ${device.id}`}
      data-testid="credential"
    >
      <p>
        <strong>Credential of {device.id}, shown once.</strong> Store it now: the hub keeps only a
        hash. Set <code>SENTINEL_MQTT_URL</code> to the broker address your devices reach.
      </p>
      <label class="field">
        <span>Agent environment</span>
        <textarea readOnly rows={4} value={env} />
      </label>
      <div class="actions">
        <button
          type="button"
          onClick={() =>
            navigator.clipboard?.writeText(env).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          Copy
        </button>
        {copied && <span role="status">Copied.</span>}
        <button type="button" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}

function CreateGroup({ onCreated }: { onCreated: () => void }) {
  const action = useAction();
  return (
    <form
      class="inline-form"
      aria-label="Create a group"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const data = new FormData(form);
        const ok = await action.run(() =>
          post('/api/v1/groups', {
            name: String(data.get('name')),
            environment: String(data.get('environment')),
          }),
        );
        if (ok) {
          form.reset();
          onCreated();
        }
      }}
    >
      <Field label="Group name">
        <input name="name" required pattern="[a-z0-9][a-z0-9._\-]{0,63}" />
      </Field>
      <Field label="Environment">
        <input name="environment" required value="production" />
      </Field>
      <button type="submit" disabled={action.busy}>
        Create group
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

function CreateDevice({
  groups,
  onCreated,
}: {
  groups: string[];
  onCreated: (d: DeviceWithCredentialsDto) => void;
}) {
  const action = useAction();
  return (
    <form
      class="inline-form"
      aria-label="Register a device"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const data = new FormData(form);
        const name = String(data.get('name') ?? '').trim();
        const created = await action.run(() =>
          post<DeviceWithCredentialsDto>('/api/v1/devices', {
            id: String(data.get('id')).trim(),
            group: String(data.get('group')),
            ...(name ? { name } : {}),
          }),
        );
        if (created) {
          form.reset();
          onCreated(created);
        }
      }}
    >
      <Field label="Device id">
        <input name="id" required />
      </Field>
      <Field label="Display name">
        <input name="name" />
      </Field>
      <Field label="Group">
        <select name="group" required>
          {groups.map((g) => (
            <option key={g}>{g}</option>
          ))}
        </select>
      </Field>
      <button type="submit" disabled={action.busy || groups.length === 0}>
        Register device
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

export function FleetPage() {
  const can = useCan('operator');
  const [group, setGroup] = useState('');
  const [online, setOnline] = useState('');
  const [offset, setOffset] = useState(0);
  const [credential, setCredential] = useState<DeviceWithCredentialsDto | null>(null);
  const limit = 100;
  const groups = useLoad(
    () => get<GroupListDto>('/api/v1/groups'),
    [],
    (e) => e.kind === 'devices',
  );
  const devices = useLoad(
    () => get<DeviceListDto>('/api/v1/devices', { group, online, limit, offset }),
    [group, online, offset],
    (e) => e.kind === 'devices',
  );
  const groupNames = (groups.data?.items ?? []).map((g) => g.name);
  return (
    <>
      <h1>Fleet</h1>
      {credential && <Credential device={credential} onClose={() => setCredential(null)} />}
      <Section title="Groups">
        <ErrorBox error={groups.error} />
        {groups.data && (
          <Table caption="Groups" testid="groups">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Environment</th>
                <th scope="col">Devices</th>
                <th scope="col">Desired model</th>
              </tr>
            </thead>
            <tbody>
              {groups.data.items.map((g) => (
                <tr key={g.name}>
                  <td>
                    <button type="button" class="link" onClick={() => setGroup(g.name)}>
                      {g.name}
                    </button>
                  </td>
                  <td>{g.environment}</td>
                  <td>{g.device_count}</td>
                  <td>{g.desired ? desiredModel(g.desired) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
        {can && <CreateGroup onCreated={groups.reload} />}
      </Section>
      <Section title="Devices">
        <form class="filters" aria-label="Filter devices" onSubmit={(e) => e.preventDefault()}>
          <Field label="Group">
            <select
              value={group}
              onChange={(e) => (setOffset(0), setGroup((e.target as HTMLSelectElement).value))}
            >
              <option value="">any</option>
              {groupNames.map((g) => (
                <option key={g}>{g}</option>
              ))}
            </select>
          </Field>
          <Field label="Online">
            <select
              value={online}
              onChange={(e) => (setOffset(0), setOnline((e.target as HTMLSelectElement).value))}
            >
              <option value="">any</option>
              <option value="true">online</option>
              <option value="false">offline</option>
            </select>
          </Field>
        </form>
        <ErrorBox error={devices.error} />
        {devices.data && (
          <>
            <Table caption="Devices" testid="devices">
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Online</th>
                  <th scope="col">Group</th>
                  <th scope="col">Active slot</th>
                  <th scope="col">Version</th>
                  <th scope="col">Standby</th>
                  <th scope="col">Last report</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Failure</th>
                </tr>
              </thead>
              <tbody>
                {devices.data.items.map((d) => {
                  const s = summarize(d);
                  return (
                    <tr key={d.id} data-device={d.id}>
                      <td>
                        <Link href={`/fleet/devices/${encodeURIComponent(d.id)}`}>{d.id}</Link>
                      </td>
                      <td>{d.online ? 'online' : 'offline'}</td>
                      <td>{d.group ?? 'none'}</td>
                      <td>{s.activeSlot ?? '—'}</td>
                      <td class="version">{s.active?.version ?? '—'}</td>
                      <td>{s.standby?.version ?? '—'}</td>
                      <td>{ago(d.last_seen_at)}</td>
                      <td class="agent">{d.agent_version ?? '—'}</td>
                      <td>{s.failure ?? ''}</td>
                    </tr>
                  );
                })}
              </tbody>
            </Table>
            <Pager total={devices.data.total} offset={offset} limit={limit} onOffset={setOffset} />
          </>
        )}
        {can && (
          <CreateDevice
            groups={groupNames}
            onCreated={(d) => (setCredential(d), devices.reload())}
          />
        )}
      </Section>
    </>
  );
}
