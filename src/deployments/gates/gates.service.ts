import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { actorOf, type Principal } from '../../auth/auth.decorators.js';
import { DomainError, notFound, validationFailed } from '../../common/domain-error.js';
import type { ModelVersion } from '../../registry/model-version.entity.js';
import { Deployment } from '../deployment.entity.js';
import { checkGatePolicy, gateProblems, gateRefusal, type GatePolicy } from '../domain/gates.js';
import { EnvironmentGate } from './environment-gate.entity.js';

/** Where a deployment's gates stand: what holds it, and whether an admin overrode that. */
export interface GateOutcome {
  problems: string[];
  overridden: boolean;
}

/** Stage gates per environment: kept here, asked by DeploymentsService.create. */
@Injectable()
export class GatesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  list(): Promise<EnvironmentGate[]> {
    return this.dataSource.getRepository(EnvironmentGate).find({ order: { environment: 'ASC' } });
  }

  async get(environment: string): Promise<EnvironmentGate> {
    const gate = await this.dataSource.getRepository(EnvironmentGate).findOneBy({ environment });
    if (!gate) throw notFound('gates of environment', environment);
    return gate;
  }

  async set(
    environment: string,
    policy: GatePolicy,
    principal: Principal,
  ): Promise<EnvironmentGate> {
    const problem = checkGatePolicy(environment, policy);
    if (problem) throw validationFailed(problem);
    const actor = actorOf(principal);
    await this.dataSource.transaction(async (m) => {
      await m
        .getRepository(EnvironmentGate)
        .upsert({ environment, ...policy, updatedBy: actor }, ['environment']);
      await this.audit.record(
        actor,
        'environment.gates',
        'environment',
        null,
        { environment, ...policy },
        m,
      );
    });
    return this.get(environment);
  }

  async remove(environment: string, principal: Principal): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const { affected } = await m.getRepository(EnvironmentGate).delete({ environment });
      if (!affected) throw notFound('gates of environment', environment);
      await this.audit.record(
        actorOf(principal),
        'environment.gates.delete',
        'environment',
        null,
        { environment },
        m,
      );
    });
  }

  /**
   * Checks `model` against the gates of `environment` inside the deployment's transaction. A held
   * deployment is refused (409) unless an admin asked to override; a token that is not admin asking
   * to override is refused (403) whether or not a gate holds.
   */
  async check(
    m: EntityManager,
    environment: string,
    model: ModelVersion,
    override: boolean,
    principal: Principal,
  ): Promise<GateOutcome> {
    if (override && principal.role !== 'admin')
      throw new DomainError('FORBIDDEN', 'only an admin token may override the stage gates');
    const gate = await m.getRepository(EnvironmentGate).findOneBy({ environment });
    if (!gate) return { problems: [], overridden: false };
    const succeededThere =
      gate.requireSuccessIn !== null &&
      (await m.getRepository(Deployment).existsBy({
        modelId: model.id,
        environment: gate.requireSuccessIn,
        status: 'succeeded',
      }));
    const problems = gateProblems(environment, gate, {
      model: `${model.name}@${model.version}`,
      stage: model.stage,
      succeededThere,
    });
    if (problems.length > 0 && !override) throw new DomainError('CONFLICT', gateRefusal(problems));
    return { problems, overridden: problems.length > 0 };
  }
}
