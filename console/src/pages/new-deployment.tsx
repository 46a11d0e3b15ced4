import { useState } from 'preact/hooks';
import { RULE_DEFINITIONS } from '../../../src/deployments/domain/rules-policy.js';
import {
  get,
  post,
  type DeploymentDetailDto,
  type GroupListDto,
  type ModelListDto,
} from '../api.js';
import { ErrorBox, Field, Section } from '../components.js';
import { useAction, useLoad } from '../hooks.js';
import { navigate, useLocation } from '../router.js';

type RuleKey = keyof typeof RULE_DEFINITIONS;
const RULE_KEYS = Object.keys(RULE_DEFINITIONS) as RuleKey[];

/** The optional numbers of the create DTO, with their defaults as the hub applies them. */
const OPTIONS = [
  [
    'observe_s',
    'Observation time (s)',
    300,
    'Once every device runs the new version, judged this long; 0: none.',
  ],
  [
    'staging_timeout_s',
    'Staging timeout (s)',
    600,
    'Blue/green: longest wait for devices to stage.',
  ],
  [
    'device_timeout_s',
    'Device timeout (s)',
    900,
    'A device still downloading after this is failed.',
  ],
  [
    'min_staged_share',
    'Min staged share',
    0.8,
    'Blue/green: share of online devices staged for the cutover.',
  ],
  [
    'max_failure_share',
    'Max failure share',
    0.2,
    'Above this share of failed devices the deployment rolls back.',
  ],
  ['max_retries', 'Max retries', 3, 'Automatic retries of a failed download.'],
] as const;

export function NewDeploymentPage() {
  const { query } = useLocation();
  const models = useLoad(() => get<ModelListDto>('/api/v1/models', { limit: 200 }), []);
  const groups = useLoad(() => get<GroupListDto>('/api/v1/groups'), []);
  const [type, setType] = useState<'canary' | 'blue-green'>('canary');
  const [target, setTarget] = useState('');
  const [rules, setRules] = useState<Partial<Record<RuleKey, string>>>({});
  const action = useAction();
  const groupList = groups.data?.items ?? [];
  const environments = [...new Set(groupList.map((g) => g.environment))];
  return (
    <>
      <h1>New deployment</h1>
      <ErrorBox error={models.error ?? groups.error} />
      <form
        class="grid-form"
        aria-label="New deployment"
        onSubmit={async (e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget as HTMLFormElement);
          const value = (k: string) => String(data.get(k) ?? '').trim();
          const body: Record<string, unknown> = {
            model_id: value('model_id'),
            environment: value('environment'),
            deployment_type: type,
            target: value('target'),
            auto_rollback: data.get('auto_rollback') === 'on',
            observe_inconclusive: value('observe_inconclusive'),
          };
          for (const [key] of OPTIONS) if (value(key) !== '') body[key] = Number(value(key));
          if (type === 'canary') {
            const canary: Record<string, unknown> = {};
            if (value('steps'))
              canary.steps = value('steps')
                .split(',')
                .map((s) => Number(s.trim()));
            if (value('step_interval_s')) canary.step_interval_s = Number(value('step_interval_s'));
            if (value('salt')) canary.salt = value('salt');
            body.canary = canary;
          }
          const overrides: Record<string, unknown> = {};
          for (const key of RULE_KEYS) {
            const v = rules[key];
            if (v === undefined || v === '') continue;
            overrides[key] =
              typeof RULE_DEFINITIONS[key].default === 'boolean' ? v === 'true' : Number(v);
          }
          if (Object.keys(overrides).length) body.rules = overrides;
          const created = await action.run(() =>
            post<DeploymentDetailDto>('/api/v1/deployments', body),
          );
          if (created) navigate(`/deployments/${created.id}`);
        }}
      >
        <Field label="Model version">
          <select name="model_id" required value={query.get('model') ?? undefined}>
            {(models.data?.items ?? []).map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} {m.version} ({m.stage})
              </option>
            ))}
          </select>
        </Field>
        <Field label="Type">
          <select
            value={type}
            onChange={(e) => setType((e.target as HTMLSelectElement).value as typeof type)}
          >
            <option value="canary">canary</option>
            <option value="blue-green">blue-green</option>
          </select>
        </Field>
        <Field label="Target" hint='a group, or "all" for every group of the environment'>
          <select
            name="target"
            required
            value={target}
            onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}
          >
            <option value="">choose…</option>
            {groupList.map((g) => (
              <option key={g.name} value={g.name}>
                {g.name} ({g.device_count} devices, {g.environment})
              </option>
            ))}
            <option value="all">all</option>
          </select>
        </Field>
        <Field label="Environment">
          <select
            name="environment"
            required
            value={groupList.find((g) => g.name === target)?.environment}
          >
            {environments.map((env) => (
              <option key={env}>{env}</option>
            ))}
          </select>
        </Field>
        {type === 'canary' && (
          <>
            <Field label="Canary steps (%)" hint="increasing, ending at 100; default 5, 25, 100">
              <input name="steps" placeholder="5, 25, 100" />
            </Field>
            <Field label="Step interval (s)" hint="default 300">
              <input name="step_interval_s" type="number" min={0} placeholder="300" />
            </Field>
            <Field label="Cohort salt" hint="default: the deployment id">
              <input name="salt" />
            </Field>
          </>
        )}
        {OPTIONS.map(([key, label, def, hint]) => (
          <Field key={key} label={label} hint={`${hint} Default ${def}.`}>
            <input name={key} type="number" step="any" min={0} placeholder={String(def)} />
          </Field>
        ))}
        <Field label="If the observation ends inconclusive">
          <select name="observe_inconclusive">
            <option value="succeed">succeed (default)</option>
            <option value="pause">pause</option>
          </select>
        </Field>
        <label class="check">
          <input type="checkbox" name="auto_rollback" checked />
          <span>Roll back automatically when the rules find a degradation</span>
        </label>
        <Section title="Rules">
          <p>Empty fields keep the default shown.</p>
          <div class="rules-grid">
            {RULE_KEYS.map((key) => {
              const def = RULE_DEFINITIONS[key];
              return (
                <Field key={key} label={key} hint={def.description}>
                  {typeof def.default === 'boolean' ? (
                    <select
                      value={rules[key] ?? ''}
                      onChange={(e) =>
                        setRules({ ...rules, [key]: (e.target as HTMLSelectElement).value })
                      }
                    >
                      <option value="">default ({String(def.default)})</option>
                      <option value="true">true</option>
                      <option value="false">false</option>
                    </select>
                  ) : (
                    <input
                      type="number"
                      step="any"
                      placeholder={String(def.default)}
                      value={rules[key] ?? ''}
                      onInput={(e) =>
                        setRules({ ...rules, [key]: (e.target as HTMLInputElement).value })
                      }
                    />
                  )}
                </Field>
              );
            })}
          </div>
        </Section>
        <div class="actions">
          <button type="submit" disabled={action.busy}>
            Create deployment
          </button>
        </div>
        <ErrorBox error={action.error} />
      </form>
    </>
  );
}
