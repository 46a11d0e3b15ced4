import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_MODEL_NAME, MAX_MODEL_NAMES } from '@sentinel/broker/protocol';
import type { ErrorSink } from '../report/error-log.js';
import { admitName, isNamedModel } from '../state/model-routing.js';
import type { ModelUnit } from './model-unit.js';

/**
 * Where a model's slot state lives: `default` in `{dataDir}/state.json` (where a one-model agent
 * always kept it, so an upgraded agent keeps its slots), a named model N in
 * `{dataDir}/named/N/state.json`. The model files stay in the shared, content-addressed
 * `{dataDir}/models`.
 */
export function unitStatePath(dataDir: string, name: string): string {
  return name === DEFAULT_MODEL_NAME
    ? join(dataDir, 'state.json')
    : join(dataDir, 'named', name, 'state.json');
}

/** The named models with a state file under `{dataDir}/named`, by name. */
export async function persistedNames(dataDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(join(dataDir, 'named'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const names: string[] = [];
  for (const entry of entries.sort()) {
    if (!isNamedModel(entry)) continue;
    const file = await stat(unitStatePath(dataDir, entry)).catch(() => null);
    if (file?.isFile()) names.push(entry);
  }
  return names;
}

/**
 * The device's models: `default`, which always exists, and the named ones, each created when its
 * first desired state arrives (or restored from its state file at start), at most MAX_MODEL_NAMES.
 */
export class ModelUnits {
  readonly default: ModelUnit;
  private readonly named = new Map<string, ModelUnit>();
  /** Names refused for the limit, each said once in the error log. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly make: (name: string) => ModelUnit,
    private readonly errors: ErrorSink,
  ) {
    this.default = make(DEFAULT_MODEL_NAME);
  }

  /** The unit of `name` (`default` included), if the device serves a model of that name. */
  get(name: string): ModelUnit | undefined {
    return name === DEFAULT_MODEL_NAME ? this.default : this.named.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** `default` first, then the named models by name. */
  all(): ModelUnit[] {
    return [this.default, ...this.namedUnits()];
  }

  namedUnits(): ModelUnit[] {
    return [...this.named.keys()].sort().map((name) => this.named.get(name)!);
  }

  /** Whether a desired state of `name` may be taken: a known model, or room for one more. */
  admit(name: string): boolean {
    const admission = admitName(new Set(this.named.keys()), name, MAX_MODEL_NAMES);
    if (admission !== 'over_limit') return true;
    if (!this.refused.has(name)) {
      this.refused.add(name);
      this.errors.record(
        `model ${name} ignored: this device serves at most ${MAX_MODEL_NAMES} named models besides default (${[...this.named.keys()].sort().join(', ')})`,
      );
    }
    return false;
  }

  /** The unit of `name`, created when it is new and there is room; undefined otherwise. */
  obtain(name: string): ModelUnit | undefined {
    const known = this.get(name);
    if (known || !this.admit(name)) return known;
    const unit = this.make(name);
    this.named.set(name, unit);
    return unit;
  }

  /** Restores `default` and every named model with a state file under `dataDir`. */
  async restore(dataDir: string | null): Promise<void> {
    await this.default.restore();
    const names = dataDir === null ? [] : await persistedNames(dataDir);
    for (const name of names) {
      const unit = this.obtain(name);
      if (unit) await unit.restore();
    }
  }
}
