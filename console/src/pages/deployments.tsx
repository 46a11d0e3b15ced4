import { useState } from 'preact/hooks';
import { get, type DeploymentListDto } from '../api.js';
import { ErrorBox, Field, Status, Table, time } from '../components.js';
import { useLoad } from '../hooks.js';
import { Link } from '../router.js';
import { useCan } from '../session.js';
import { Pager } from './models.js';

const STATUSES = [
  'pending',
  'staging',
  'in_progress',
  'paused',
  'succeeded',
  'rolled_back',
  'failed',
  'superseded',
];

export function DeploymentsPage() {
  const canDeploy = useCan('operator');
  const [status, setStatus] = useState('');
  const [group, setGroup] = useState('');
  const [offset, setOffset] = useState(0);
  const limit = 50;
  const list = useLoad(
    () => get<DeploymentListDto>('/api/v1/deployments', { status, group, limit, offset }),
    [status, group, offset],
    (e) => e.kind === 'deployment',
  );
  return (
    <>
      <div class="page-head">
        <h1>Deployments</h1>
        {canDeploy && (
          <Link class="button" href="/deployments/new">
            New deployment
          </Link>
        )}
      </div>
      <form class="filters" aria-label="Filter deployments" onSubmit={(e) => e.preventDefault()}>
        <Field label="Status">
          <select
            value={status}
            onChange={(e) => {
              setOffset(0);
              setStatus((e.target as HTMLSelectElement).value);
            }}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </Field>
        <Field label="Group">
          <input
            value={group}
            onChange={(e) => {
              setOffset(0);
              setGroup((e.target as HTMLInputElement).value);
            }}
          />
        </Field>
      </form>
      <ErrorBox error={list.error} />
      {list.data && (
        <>
          <Table caption="Deployments" testid="deployments">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Type</th>
                <th scope="col">Target</th>
                <th scope="col">Status</th>
                <th scope="col">Phase</th>
                <th scope="col">Step</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link href={`/deployments/${d.id}`}>
                      {d.model.name} {d.model.version}
                    </Link>
                  </td>
                  <td>{d.deployment_type}</td>
                  <td>
                    {d.target} ({d.environment})
                  </td>
                  <td>
                    <Status value={d.status} />
                  </td>
                  <td>{d.phase ?? '—'}</td>
                  <td>
                    {d.canary
                      ? `${d.canary.percent} % (${d.canary.step_index + 1}/${d.canary.steps.length})`
                      : '—'}
                  </td>
                  <td>{time(d.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Pager total={list.data.total} offset={offset} limit={limit} onOffset={setOffset} />
        </>
      )}
    </>
  );
}
