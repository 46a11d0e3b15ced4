import type { DesiredState } from '@sentinel/broker/protocol';
import type { Slots } from '../inference/slots.js';
import { otherSlot } from '../state/plan.js';
import { shadowSettingsOf } from './compare.js';
import { DEFAULT_SHADOW_QUEUE, type ShadowCandidate } from './shadow-runner.js';

/**
 * What to shadow now: the desired state's new model while it waits in the standby slot and the
 * previous one serves (blue/green staging, or a canary before its first step), when the desired
 * state asks for shadow verification. Null otherwise: shadowing stops at the cutover, on a
 * rollback, or when the desired state moves on. A model whose metadata names an unknown
 * comparison is not shadowed (the reason goes to the error log, and the hub sees no figures).
 */
export function shadowCandidate(
  desired: DesiredState | null,
  slots: Slots,
  onProblem: (message: string) => void,
): ShadowCandidate | null {
  const request = desired?.shadow;
  const model = desired?.model;
  if (!request || !model || desired.activate !== 'previous') return null;
  const active = slots.active;
  if (active === null) return null;
  const standby = otherSlot(active);
  const view = slots.view();
  if (view[standby]?.sha256 !== model.sha256) return null;
  if (view[active]?.sha256 === model.sha256) return null;
  let settings;
  try {
    settings = shadowSettingsOf(model.metadata);
  } catch (error) {
    onProblem(`cannot shadow ${model.name}@${model.version}: ${(error as Error).message}`);
    return null;
  }
  return {
    model,
    deploymentId: desired.deployment_id,
    settings,
    sampleRate: request.sample_rate,
    queue: request.queue ?? DEFAULT_SHADOW_QUEUE,
    run: async (feeds) => (await slots.runOn(standby, feeds)).outputs,
  };
}
