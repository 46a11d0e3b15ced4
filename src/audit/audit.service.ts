import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { AuditEvent } from './audit-event.entity.js';

@Injectable()
export class AuditService {
  private readonly events: Repository<AuditEvent>;

  constructor(dataSource: DataSource) {
    this.events = dataSource.getRepository(AuditEvent);
  }

  /** Pass the transaction's manager when the event must commit together with the change it records. */
  async record(
    actor: string,
    action: string,
    targetType: string,
    targetId: string | null,
    details: Record<string, unknown> = {},
    manager?: EntityManager,
  ): Promise<void> {
    const repository = manager ? manager.getRepository(AuditEvent) : this.events;
    await repository.insert({ actor, action, targetType, targetId, details: details as never });
  }
}
