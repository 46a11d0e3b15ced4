import { useState } from 'preact/hooks';
import {
  get,
  patch,
  type DeploymentListDto,
  type LineageDto,
  type ModelVersionDto,
} from '../api.js';
import { TelemetryCharts } from '../chart.js';
import { Dl, ErrorBox, Field, Section, Status, Table, bytes, time } from '../components.js';
import { useAction, useLoad } from '../hooks.js';
import { Link } from '../router.js';
import { useCan } from '../session.js';

const shape = (s: (number | string | null)[]) => `[${s.map((d) => d ?? '?').join(', ')}]`;

/** Ancestors above, the version in the middle, descendants below: a small SVG graph of links. */
function LineageGraph({ model, lineage }: { model: ModelVersionDto; lineage: LineageDto }) {
  const nodes = [...lineage.ancestors].reverse().concat(model, lineage.descendants);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const depth = new Map<string, number>();
  const depthOf = (n: ModelVersionDto): number => {
    if (depth.has(n.id)) return depth.get(n.id)!;
    const parent = n.parent_id ? byId.get(n.parent_id) : undefined;
    const d = parent ? depthOf(parent) + 1 : 0;
    depth.set(n.id, d);
    return d;
  };
  const rows = new Map<number, ModelVersionDto[]>();
  for (const n of nodes) rows.set(depthOf(n), [...(rows.get(depthOf(n)) ?? []), n]);
  const W = 170,
    H = 56;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, row] of rows)
    row.forEach((n, i) => pos.set(n.id, { x: 10 + i * (W + 20), y: 10 + d * (H + 30) }));
  const width = Math.max(...[...rows.values()].map((r) => r.length)) * (W + 20) + 20;
  const height = rows.size * (H + 30) + 10;
  return (
    <figure>
      <svg class="lineage" viewBox={`0 0 ${width} ${height}`} width={width} height={height}>
        {nodes.map((n) => {
          const p = pos.get(n.id)!;
          const parent = n.parent_id ? pos.get(n.parent_id) : undefined;
          return parent ? (
            <line
              key={`e-${n.id}`}
              x1={parent.x + W / 2}
              y1={parent.y + H}
              x2={p.x + W / 2}
              y2={p.y}
              class="edge"
            />
          ) : null;
        })}
        {nodes.map((n) => {
          const p = pos.get(n.id)!;
          return (
            <a key={n.id} href={`/models/${n.id}`}>
              <rect
                x={p.x}
                y={p.y}
                width={W}
                height={H}
                rx={6}
                class={n.id === model.id ? 'node current' : 'node'}
              />
              <text x={p.x + 10} y={p.y + 22}>
                {n.name.length > 20 ? `${n.name.slice(0, 19)}…` : n.name}
              </text>
              <text x={p.x + 10} y={p.y + 42}>
                {n.version} · {n.stage}
              </text>
            </a>
          );
        })}
      </svg>
      <figcaption data-testid="lineage-caption">
        Lineage, oldest first: {nodes.map((n) => `${n.name} ${n.version}`).join(' → ')}
      </figcaption>
    </figure>
  );
}

function Edit({ model, onSaved }: { model: ModelVersionDto; onSaved: () => void }) {
  const [stage, setStage] = useState(model.stage);
  const [tags, setTags] = useState(model.tags.join(', '));
  const action = useAction();
  return (
    <form
      class="inline-form"
      aria-label="Stage and tags"
      onSubmit={async (e) => {
        e.preventDefault();
        const done = await action.run(() =>
          patch(`/api/v1/models/${model.id}`, {
            stage,
            tags: tags
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
          }),
        );
        if (done) onSaved();
      }}
    >
      <Field label="Stage">
        <select
          value={stage}
          onChange={(e) => setStage((e.target as HTMLSelectElement).value as typeof stage)}
        >
          <option>staging</option>
          <option>production</option>
          <option>archived</option>
        </select>
      </Field>
      <Field label="Tags" hint="comma-separated">
        <input value={tags} onInput={(e) => setTags((e.target as HTMLInputElement).value)} />
      </Field>
      <button type="submit" disabled={action.busy}>
        Save
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

export function ModelPage({ id }: { id: string }) {
  const canEdit = useCan('operator');
  const live = (e: { kind: string; data: Record<string, unknown> }) =>
    e.kind === 'model' && e.data.id === id;
  const model = useLoad(() => get<ModelVersionDto>(`/api/v1/models/${id}`), [id], live);
  const lineage = useLoad(
    () => get<LineageDto>(`/api/v1/models/${id}/lineage`),
    [id],
    (e) => e.kind === 'model',
  );
  const deployments = useLoad(
    () => get<DeploymentListDto>('/api/v1/deployments', { model_id: id, limit: 20 }),
    [id],
    (e) => e.kind === 'deployment',
  );
  const m = model.data;
  if (!m)
    return <>{model.error ? <ErrorBox error={model.error} /> : <p role="status">Loading…</p>}</>;
  const onnx = m.onnx;
  return (
    <>
      <div class="page-head">
        <h1>
          {m.name} {m.version}
        </h1>
        <Status value={m.stage} />
        {canEdit && (
          <Link class="button" href={`/deployments/new?model=${m.id}`}>
            Deploy this version
          </Link>
        )}
      </div>
      <ErrorBox error={model.error} />
      <Dl
        items={[
          ['Id', <code>{m.id}</code>],
          ['Type', m.model_type],
          ['Framework / format', `${m.framework} / ${m.format}`],
          ['Size', bytes(m.size)],
          ['sha256', <code class="wrap">{m.sha256}</code>],
          ['Tags', m.tags.join(', ') || '—'],
          ['Pushed', `${time(m.created_at)} by ${m.created_by}`],
          ['Updated', time(m.updated_at)],
        ]}
      />
      {canEdit && (
        <Section title="Change stage or tags">
          <Edit key={m.updated_at} model={m} onSaved={model.reload} />
        </Section>
      )}
      <Section title="Signature">
        {m.signature ? (
          <Dl
            items={[
              ['Signed by key', <code>{m.signature.key_hint}</code>],
              ['Kind', m.signature.kind],
              ['Bundle', m.signature.bundle_media_type],
              ['Verified', time(m.signature.verified_at)],
            ]}
          />
        ) : (
          <p>Not signed.</p>
        )}
      </Section>
      <Section title="ONNX header">
        {onnx ? (
          <>
            <Dl
              items={[
                ['Opset', `${onnx.opset} (IR ${onnx.ir_version})`],
                ['Producer', `${onnx.producer_name} ${onnx.producer_version}`],
                ['Graph', onnx.graph_name],
                ['Parameters', onnx.parameter_count.toLocaleString()],
                ['Nodes', onnx.node_count],
              ]}
            />
            <Table caption="Inputs and outputs">
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Shape</th>
                </tr>
              </thead>
              <tbody>
                {onnx.inputs.map((t) => (
                  <tr key={`i-${t.name}`}>
                    <td>input</td>
                    <td>{t.name}</td>
                    <td>{t.elem_type}</td>
                    <td>{shape(t.shape)}</td>
                  </tr>
                ))}
                {onnx.outputs.map((t) => (
                  <tr key={`o-${t.name}`}>
                    <td>output</td>
                    <td>{t.name}</td>
                    <td>{t.elem_type}</td>
                    <td>{shape(t.shape)}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          </>
        ) : (
          <p>Not an ONNX model.</p>
        )}
      </Section>
      <Section title="Metadata">
        {Object.keys(m.metadata).length ? (
          <pre class="json">{JSON.stringify(m.metadata, null, 2)}</pre>
        ) : (
          <p>None.</p>
        )}
      </Section>
      <Section title="Lineage">
        <ErrorBox error={lineage.error} />
        {lineage.data && (
          <div class="scroll-x">
            <LineageGraph model={m} lineage={lineage.data} />
          </div>
        )}
      </Section>
      <Section title="Deployments of this version">
        <ErrorBox error={deployments.error} />
        {deployments.data && deployments.data.items.length === 0 && <p>None.</p>}
        {deployments.data && deployments.data.items.length > 0 && (
          <ul>
            {deployments.data.items.map((d) => (
              <li key={d.id}>
                <Link href={`/deployments/${d.id}`}>
                  {d.deployment_type} to {d.target} ({d.environment})
                </Link>{' '}
                <Status value={d.status} /> {time(d.created_at)}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Telemetry of this version">
        <TelemetryCharts
          filter={{ model_version: m.id }}
          by="device"
          label={(s) => s.device ?? 'all devices'}
        />
      </Section>
    </>
  );
}
