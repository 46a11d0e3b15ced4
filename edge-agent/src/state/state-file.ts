import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ModelRef, Slot } from '@sentinel/broker/protocol';
import { AgentError, isDiskFull } from '../errors.js';
import type { Veto } from './plan.js';

/** What survives a restart: which slot serves, what each slot holds, and the refusals. */
export interface PersistedState {
  version: 1;
  active: Slot | null;
  blue: ModelRef | null;
  green: ModelRef | null;
  vetoes: Veto[];
  /** `<deployment_id>:<sha256>` of models that served here, to tell rolled_back from staged. */
  served: string[];
  group: string | null;
  /**
   * When this device first deferred a swap (`<deployment_id>:<sha256>`, epoch ms): the maximum
   * deferral counts from then, across restarts. Absent in files of older agents.
   */
  deferred?: { key: string; at: number } | null;
}

export const EMPTY_STATE: PersistedState = {
  version: 1,
  active: null,
  blue: null,
  green: null,
  vetoes: [],
  served: [],
  group: null,
};

/**
 * Writes the state atomically: a temporary file, fsync, rename over the old one, fsync of the
 * folder. A crash at any point leaves either the old or the new file, never a torn one; a failed
 * write removes its temporary file and leaves the old state as it was. A full disk (ENOSPC, EDQUOT,
 * EFBIG) throws AgentError('disk_full').
 */
export async function writeState(path: string, state: PersistedState): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(JSON.stringify(state, null, 2) + '\n');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    if (!isDiskFull(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentError('disk_full', `cannot save the slot state ${path}: ${code}`, {
      cause: error,
    });
  }
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** Reads the state; a missing file is a fresh agent. A corrupt one is an error worth stopping for. */
export async function readState(path: string): Promise<PersistedState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(EMPTY_STATE);
    throw error;
  }
  const value = JSON.parse(text) as Partial<PersistedState>;
  if (value.version !== 1)
    throw new Error(`${path}: unknown state version ${String(value.version)}`);
  return { ...structuredClone(EMPTY_STATE), ...value } as PersistedState;
}
