import { Injectable } from '@nestjs/common';
import { inCohort, type DesiredState, type ModelRef } from '@sentinel/broker';
import type { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { DomainError } from '../common/domain-error.js';
import {
  DesiredStateService,
  type DesiredIntent,
  type StagedDesired,
} from '../broker/desired-state.service.js';
import { requirementsOf } from '../registry/domain/requirements.js';
import type { ModelVersion } from '../registry/model-version.entity.js';
import { DeploymentTargets } from './deployment-targets.js';
import { DeploymentDevice, type DeploymentGroup } from './deployment.entity.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { assign, incompatibilities, type Assignment, type Needs } from './domain/compatibility.js';

type Facts = Awaited<ReturnType<DeploymentTargets['deviceFacts']>>;

export interface Judged {
  assignment: Assignment;
  facts: Facts;
}

/** What a device follows when it has no desired state at all: nothing to serve, nothing to load. */
const NOTHING: DesiredIntent = {
  deployment_id: null,
  strategy: 'none',
  model: null,
  previous: null,
  activate: 'new',
  cohort: null,
};

const intentOf = (state: DesiredState | null): DesiredIntent => {
  if (!state) return NOTHING;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { seq, issued_at, ...intent } = state;
  return intent;
};

/** The model a desired state has this device serve (the agent's rule, docs/protocol.md 6.3). */
function servedBy(state: DesiredState, deviceId: string): ModelRef | null {
  const member = state.model !== null && inCohort(deviceId, state.cohort);
  return member && state.activate === 'new' ? state.model : state.previous;
}

/** What a model needs of a device: the opset of its ONNX header, and its metadata.requirements. */
function needsOf(model: ModelVersion): Needs {
  return {
    ...(model.onnx?.opset ? { opset: model.onnx.opset } : {}),
    ...requirementsOf(model.metadata),
  };
}

/**
 * Compatibility before assignment, applied: a new deployment's target devices are judged on their
 * reported capabilities (domain/compatibility.ts); it is refused when none can run the model, and
 * the incompatible ones are skipped. A skipped device keeps what it runs by a per-device desired
 * state (a "hold"): a copy of what its group asked before the deployment, retained on the device's
 * topic, which the agent prefers over the group's. A hold is the hub's while the device's
 * desired_seq is one recorded in deployment_devices.held_seq (a pin set since is never touched).
 * The next deployment to the group judges the device again: still incompatible, it keeps the hold;
 * compatible, it follows that deployment by a state of its own that keeps its own fallback
 * (`follow`, with every publication of the groups' states, rollbacks included) until its fallback
 * is the group's and the hold is released. A rollback also holds the devices following the group
 * that cannot run the model it returns to (`keepOnRollback`). Holds are desired states: the hub
 * re-publishes them at every start.
 */
@Injectable()
export class DeploymentCompatibility {
  constructor(
    private readonly targets: DeploymentTargets,
    private readonly desired: DesiredStateService,
    private readonly repo: DeploymentsRepository,
  ) {}

  /**
   * A rollback (or a failed deployment) returns the groups to their previous model; a device that
   * follows the group and cannot run it (say its labels changed since) keeps what the group asks
   * now, by a hold, recorded on the deployment as skipped. Returns the holds, to publish before
   * the groups' states.
   */
  async keepOnRollback(
    m: EntityManager,
    deploymentId: string,
    groups: readonly DeploymentGroup[],
    actor: string,
    serveAs: string,
  ): Promise<StagedDesired[]> {
    const previous = await this.repo.models(
      m,
      groups.map((g) => g.previousModelId),
    );
    if (previous.size === 0) return [];
    const groupIds = groups.map((g) => g.groupId);
    const facts = await this.targets.deviceFacts(m, groupIds, serveAs);
    const byName = await this.desired.groupStates(
      m,
      groups.map((g) => g.groupName),
      serveAs,
    );
    const current = new Map(groups.map((g) => [g.groupId, byName.get(g.groupName) ?? null]));
    const staged: StagedDesired[] = [];
    for (const device of facts) {
      if (device.desired !== null || device.capabilities === null) continue;
      const group = groups.find((g) => g.groupId === device.group_id);
      const model = previous.get(group?.previousModelId ?? '');
      if (!model) continue;
      const reasons = incompatibilities(device.capabilities, needsOf(model));
      if (reasons.length === 0) continue;
      const hold = await this.desired.store(
        { kind: 'device', id: device.id, serveAs },
        intentOf(current.get(device.group_id) ?? null),
        actor,
        m,
      );
      staged.push(hold);
      const detail = `kept its model: cannot run ${model.name}@${model.version} the rollback returns to (${reasons.join('; ')})`;
      await m.query(
        `INSERT INTO deployment_devices AS dd
           (deployment_id, device_id, phase, reason, detail, attempts, held_seq, phase_since, updated_at)
         VALUES ($1, $2, 'skipped', 'incompatible', $3, 0, $4, now(), now())
         ON CONFLICT (deployment_id, device_id) DO UPDATE SET
           phase = 'skipped', reason = 'incompatible', detail = $3, held_seq = $4,
           phase_since = now(), updated_at = now()`,
        [deploymentId, device.id, detail.slice(0, 2048), hold.state.seq],
      );
    }
    return staged;
  }

  /** Judges the groups' devices; throws INCOMPATIBLE when none can run the model. */
  async judge(
    m: EntityManager,
    groupIds: string[],
    model: ModelVersion,
    serveAs: string,
  ): Promise<Judged> {
    const facts = await this.targets.deviceFacts(m, groupIds, serveAs);
    const needs = needsOf(model);
    const assignment = assign(
      facts.map((f) => ({ id: f.id, capabilities: f.capabilities })),
      needs,
    );
    if (assignment.refusal) {
      throw new DomainError(
        'INCOMPATIBLE',
        `${assignment.refusal}: change the model's metadata.requirements, or the devices`,
        { skipped: assignment.skipped.slice(0, 100) },
      );
    }
    return { assignment, facts };
  }

  /**
   * Records the skipped devices (phase `skipped`, reason `incompatible`) and holds their model.
   * Inside the creating transaction; returns the holds, to publish before the groups' states.
   */
  async apply(
    m: EntityManager,
    deploymentId: string,
    judged: Judged,
    groupDesired: ReadonlyMap<string, DesiredState | null>,
    actor: string,
    serveAs: string,
  ): Promise<StagedDesired[]> {
    const staged: StagedDesired[] = [];
    const skipped = new Map(judged.assignment.skipped.map((s) => [s.id, s.detail]));
    const now = new Date();
    const rows: QueryDeepPartialEntity<DeploymentDevice>[] = [];
    for (const device of judged.facts) {
      const detail = skipped.get(device.id);
      if (detail === undefined) continue;
      let heldSeq: number | null = null;
      if (device.held) {
        heldSeq = device.desired_seq; // the hold still names what it runs
      } else if (device.desired === null) {
        const hold = await this.desired.store(
          { kind: 'device', id: device.id, serveAs },
          intentOf(groupDesired.get(device.group_id) ?? null),
          actor,
          m,
        );
        staged.push(hold);
        heldSeq = hold.state.seq;
      } // else: pinned by a person; the pin keeps its model.
      rows.push({
        deploymentId,
        deviceId: device.id,
        phase: 'skipped',
        reason: 'incompatible',
        detail: detail.slice(0, 2048),
        inCohort: null,
        attempts: 0,
        heldSeq,
        phaseSince: now,
        updatedAt: now,
      });
    }
    if (rows.length > 0) await m.getRepository(DeploymentDevice).insert(rows);
    return staged;
  }

  /**
   * The devices the hub holds that this deployment reaches (a hold of theirs, and the deployment did
   * not skip them) follow it by a state of their own: the group's `intent` with `previous` their
   * own fallback (what they served before), so that staging, a canary step's outsiders and a
   * rollback keep them on a model they ran rather than the group's, which they may not be able to
   * run. When their fallback is the group's, the hold is released: they follow the group. Called
   * with every publication of the groups' states; returns what to publish after them.
   */
  async follow(
    m: EntityManager,
    deploymentId: string,
    intents: ReadonlyMap<string, DesiredIntent>,
    actor: string,
    serveAs: string,
  ): Promise<StagedDesired[]> {
    const facts = await this.targets.deviceFacts(m, [...intents.keys()], serveAs);
    if (!facts.some((f) => f.held)) return [];
    const skipped: { device_id: string }[] = await m.query(
      `SELECT device_id FROM deployment_devices WHERE deployment_id = $1 AND phase = 'skipped'`,
      [deploymentId],
    );
    const kept = new Set(skipped.map((r) => r.device_id));
    const staged: StagedDesired[] = [];
    for (const device of facts) {
      const intent = intents.get(device.group_id);
      if (!device.held || !device.desired || !intent || kept.has(device.id)) continue;
      const fallback =
        device.desired.deployment_id === deploymentId
          ? device.desired.previous
          : servedBy(device.desired, device.id);
      if ((fallback?.id ?? null) === (intent.previous?.id ?? null)) {
        const clear = await this.desired.stageClear(device.id, actor, m, serveAs);
        if (clear) staged.push(clear);
        continue;
      }
      const own = await this.desired.store(
        { kind: 'device', id: device.id, serveAs },
        { ...intent, previous: fallback },
        actor,
        m,
      );
      staged.push(own);
      await m.query(
        `INSERT INTO deployment_devices AS dd
           (deployment_id, device_id, phase, attempts, held_seq, phase_since, updated_at)
         VALUES ($1, $2, 'notified', 0, $3, now(), now())
         ON CONFLICT (deployment_id, device_id) DO UPDATE SET held_seq = $3`,
        [deploymentId, device.id, own.state.seq],
      );
    }
    return staged;
  }
}
