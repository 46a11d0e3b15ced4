/**
 * A deployment's health rules (its `rules` field): one definition gives the defaults, the
 * validation of overrides, and the descriptions that the README, `sentinel model deploy --help` and
 * the OpenAPI schema show. Part of what a deployment is, so it lives with deployments; the rules
 * module reads it to judge.
 */

interface RuleDefinition<T extends number | boolean> {
  default: T;
  /** What it means, one sentence, as users read it in --help and the API schema. */
  description: string;
}

const number = (value: number, description: string): RuleDefinition<number> => ({
  default: value,
  description,
});

export const RULE_DEFINITIONS = {
  enabled: {
    default: true,
    description:
      'Judge the deployment at all; false: canary steps follow their interval alone and nothing is rolled back by the rules.',
  } as RuleDefinition<boolean>,
  window_s: number(60, 'Seconds of telemetry judged in each evaluation (the latest window).'),
  warmup_s: number(
    10,
    'Telemetry from the first seconds of a step or cutover is not judged (fresh sessions warm up).',
  ),
  alpha: number(
    0.01,
    "Significance level: a change counts as a degradation only if Welch's one-sided t-test gives p below this.",
  ),
  fps_drop_pct: number(
    10,
    'Degraded when FPS drops by more than this many percent (and significantly).',
  ),
  fps_min_delta: number(0.5, 'An FPS drop must also be larger than this many frames per second.'),
  p95_rise_pct: number(
    20,
    'Degraded when p95 latency rises by more than this many percent (and significantly).',
  ),
  p95_min_delta_ms: number(
    0.5,
    "A p95 latency rise must also be larger than this many milliseconds (less is within the agent's own jitter and far below a frame's time).",
  ),
  memory_rise_pct: number(
    50,
    'Degraded when memory rises by more than this many percent (and significantly).',
  ),
  memory_min_delta_mb: number(10, 'A memory rise must also be larger than this many MB.'),
  error_rate_max_pct: number(
    5,
    'Degraded when more than this percentage of inferences fail (new version alone).',
  ),
  map_drop_points: number(
    5,
    'Degraded when mAP drops by more than this many points against the baseline.',
  ),
  staging_failure_max_pct: number(
    20,
    'Degraded when more than this percentage of devices failed to stage the model.',
  ),
  min_devices: number(1, 'Devices needed on each side (new version, baseline) for a verdict.'),
  min_samples: number(5, 'Telemetry windows needed on each side for a verdict.'),
  inconclusive_timeout_s: number(
    600,
    'A canary step that stays inconclusive this long is paused (a person decides).',
  ),
} as const;

/**
 * Devices a side needs before a canary is compared with the devices outside its cohort (device
 * means against device means). With fewer, cameras that differ by 8-12 % hide a 20 % drop more
 * often than not and Welch's test on 2-4 values is unreliable (bench/verdict: at 8 % spread, 2 vs
 * 18 devices detect 41 % with 1.3 % false; 5 vs 15, 97 % and 0.9 %); the same devices' own windows
 * before the step detect 99.8 % with 0.2 % false even for one device.
 */
export const OUTSIDE_MIN_DEVICES = 5;

export type RuleKey = keyof typeof RULE_DEFINITIONS;
export type RulesPolicy = {
  [K in RuleKey]: (typeof RULE_DEFINITIONS)[K]['default'] extends boolean ? boolean : number;
};

export const DEFAULT_RULES: RulesPolicy = Object.fromEntries(
  Object.entries(RULE_DEFINITIONS).map(([key, rule]) => [key, rule.default]),
) as RulesPolicy;

/** The deployment's `rules` over the defaults; throws a one-line Error for a bad override. */
export function rulesPolicy(overrides: Record<string, unknown> | null | undefined): RulesPolicy {
  const policy: RulesPolicy = { ...DEFAULT_RULES };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (!(key in DEFAULT_RULES)) {
      throw new Error(
        `rules.${key} is not a rule; known: ${Object.keys(DEFAULT_RULES).join(', ')}`,
      );
    }
    const expected = typeof DEFAULT_RULES[key as RuleKey];
    if (
      typeof value !== expected ||
      (typeof value === 'number' && (!Number.isFinite(value) || value < 0))
    ) {
      throw new Error(
        `rules.${key} must be ${expected === 'number' ? 'a number >= 0' : 'true or false'}`,
      );
    }
    if (key === 'alpha' && ((value as number) <= 0 || (value as number) >= 0.5)) {
      throw new Error('rules.alpha must be above 0 and below 0.5');
    }
    (policy as unknown as Record<string, unknown>)[key] = value;
  }
  return policy;
}

/** `key=default  description` lines, for --help and docs. */
export function describeRules(): {
  key: RuleKey;
  default: number | boolean;
  description: string;
}[] {
  return (Object.keys(RULE_DEFINITIONS) as RuleKey[]).map((key) => ({
    key,
    default: RULE_DEFINITIONS[key].default,
    description: RULE_DEFINITIONS[key].description,
  }));
}

/** The README's table of rules (a spec keeps the README in step with this definition). */
export function rulesTableMarkdown(): string {
  const rows = describeRules().map((r) => `| \`${r.key}\` | ${r.default} | ${r.description} |`);
  return ['| rule | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
