import { useState } from 'preact/hooks';
import { get, pushModel, type ModelListDto } from '../api.js';
import { ErrorBox, Field, Section, Status, Table, bytes, time } from '../components.js';
import { useLoad } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { useCan } from '../session.js';

function PushForm({ onPushed }: { onPushed: () => void }) {
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  return (
    <form
      class="grid-form"
      aria-label="Push a model"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const data = new FormData(form);
        const file = data.get('file') as File | null;
        if (!file || file.size === 0) return setError(new Error('Choose a model file.'));
        const fields: Record<string, string> = {};
        for (const key of [
          'name',
          'version',
          'model_type',
          'framework',
          'stage',
          'tags',
          'parent_id',
          'metadata',
        ])
          fields[key] = String(data.get(key) ?? '').trim();
        setError(null);
        setProgress({ sent: 0, total: file.size });
        try {
          const model = await pushModel(
            fields,
            file,
            (sent, total) => setProgress({ sent, total }),
            data.get('signature') as File | null,
          );
          onPushed();
          navigate(`/models/${model.id}`);
        } catch (err) {
          setError(err as Error);
        } finally {
          setProgress(null);
        }
      }}
    >
      <Field label="File">
        <input type="file" name="file" required />
      </Field>
      <Field label="Name">
        <input name="name" required />
      </Field>
      <Field label="Version" hint="semver 1.4.0, nightly 20261206 or CalVer 2026.12.6">
        <input name="version" required />
      </Field>
      <Field label="Model type">
        <input name="model_type" required value="detector" />
      </Field>
      <Field label="Framework">
        <select name="framework">
          {['onnx', 'pytorch', 'tensorflow', 'tflite', 'safetensors'].map((f) => (
            <option key={f}>{f}</option>
          ))}
        </select>
      </Field>
      <Field label="Stage">
        <select name="stage">
          <option>staging</option>
          <option>production</option>
          <option>archived</option>
        </select>
      </Field>
      <Field label="Tags" hint="comma-separated">
        <input name="tags" />
      </Field>
      <Field label="Parent version id">
        <input name="parent_id" />
      </Field>
      <Field
        label="Signature (Sigstore bundle)"
        hint="optional; required when the hub demands signed models"
      >
        <input type="file" name="signature" accept=".json,.sigstore,application/json" />
      </Field>
      <Field label="Metadata (JSON object)">
        <input name="metadata" placeholder='{"map": 0.62}' />
      </Field>
      <div class="actions">
        <button type="submit" disabled={progress !== null}>
          Push
        </button>
        {progress && (
          <progress aria-label="Upload progress" max={progress.total || 1} value={progress.sent}>
            {Math.round((progress.sent / (progress.total || 1)) * 100)} %
          </progress>
        )}
        {progress && (
          <span role="status">
            {bytes(progress.sent)} of {bytes(progress.total)}
          </span>
        )}
      </div>
      <ErrorBox error={error} />
    </form>
  );
}

export function ModelsPage() {
  const [filters, setFilters] = useState({ name: '', stage: '', model_type: '', tag: '' });
  const [offset, setOffset] = useState(0);
  const [pushing, setPushing] = useState(false);
  const canPush = useCan('operator');
  const limit = 50;
  const list = useLoad(
    () => get<ModelListDto>('/api/v1/models', { ...filters, limit, offset }),
    [JSON.stringify(filters), offset],
    (e) => e.kind === 'model',
  );
  const set = (key: keyof typeof filters) => (e: Event) => {
    setOffset(0);
    setFilters({ ...filters, [key]: (e.target as HTMLInputElement).value });
  };
  return (
    <>
      <div class="page-head">
        <h1>Models</h1>
        {canPush && (
          <button type="button" aria-expanded={pushing} onClick={() => setPushing(!pushing)}>
            {pushing ? 'Close push form' : 'Push a model'}
          </button>
        )}
      </div>
      {pushing && canPush && (
        <Section title="Push a model">
          <PushForm onPushed={() => setPushing(false)} />
        </Section>
      )}
      <form class="filters" aria-label="Filter models" onSubmit={(e) => e.preventDefault()}>
        <Field label="Name">
          <input value={filters.name} onChange={set('name')} />
        </Field>
        <Field label="Stage">
          <select value={filters.stage} onChange={set('stage')}>
            <option value="">any</option>
            <option>staging</option>
            <option>production</option>
            <option>archived</option>
          </select>
        </Field>
        <Field label="Model type">
          <input value={filters.model_type} onChange={set('model_type')} />
        </Field>
        <Field label="Tag">
          <input value={filters.tag} onChange={set('tag')} />
        </Field>
      </form>
      <ErrorBox error={list.error} />
      {list.data && (
        <>
          <Table caption="Model versions" testid="models">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Version</th>
                <th scope="col">Stage</th>
                <th scope="col">Format</th>
                <th scope="col">Size</th>
                <th scope="col">Signed</th>
                <th scope="col">Tags</th>
                <th scope="col">Pushed</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link href={`/models/${m.id}`}>{m.name}</Link>
                  </td>
                  <td>{m.version}</td>
                  <td>
                    <Status value={m.stage} />
                  </td>
                  <td>{m.format}</td>
                  <td>{bytes(m.size)}</td>
                  <td>{m.signature ? 'yes' : 'no'}</td>
                  <td>{m.tags.join(', ')}</td>
                  <td>{time(m.created_at)}</td>
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

export function Pager(props: {
  total: number;
  offset: number;
  limit: number;
  onOffset: (o: number) => void;
}) {
  const { total, offset, limit } = props;
  return (
    <nav class="pager" aria-label="Pages">
      <span>
        {total === 0 ? 'none' : `${offset + 1}–${Math.min(total, offset + limit)} of ${total}`}
      </span>
      <button
        type="button"
        disabled={offset === 0}
        onClick={() => props.onOffset(Math.max(0, offset - limit))}
      >
        Previous
      </button>
      <button
        type="button"
        disabled={offset + limit >= total}
        onClick={() => props.onOffset(offset + limit)}
      >
        Next
      </button>
    </nav>
  );
}
