// What a deployment's status means for people and for the manual actions. Pure.
import type { DeploymentStage, DeploymentStatus, DeploymentView } from './rollout-types.js';

/** Where an active deployment is: staging, rolling out (cutover, canary steps), observing. */
export function stageOf(
  view: Pick<DeploymentView, 'status' | 'observingSince' | 'shadowSince'>,
): DeploymentStage {
  switch (view.status) {
    case 'staging':
      return view.shadowSince ? 'shadow' : 'staging';
    case 'pending':
      return 'staging';
    case 'in_progress':
      return view.observingSince ? 'observing' : 'rolling_out';
    case 'paused':
      return 'paused';
    default:
      return null;
  }
}

/** Statuses a manual action may start from. */
export function allowedFrom(
  action: 'rollback' | 'pause' | 'resume' | 'promote',
): readonly DeploymentStatus[] {
  switch (action) {
    case 'rollback':
      // A failed deployment has already sent its devices back.
      return ['pending', 'staging', 'in_progress', 'paused', 'succeeded'];
    case 'pause':
      return ['staging', 'in_progress'];
    case 'resume':
      return ['paused'];
    case 'promote':
      return ['staging', 'in_progress'];
  }
}
