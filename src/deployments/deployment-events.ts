import { Injectable, Logger } from '@nestjs/common';
import { InProcessEvents } from '../common/in-process-events.js';

export interface DeploymentEventMap {
  /**
   * A deployment was created or changed: its status, step, observation or verdict, or the phase or
   * progress of its devices. After the change committed.
   */
  'deployment.changed': { id: string; status: string };
}

/** What happens to deployments, for listeners in this process (the live events stream). */
@Injectable()
export class DeploymentEvents extends InProcessEvents<DeploymentEventMap> {
  constructor() {
    super(new Logger('DeploymentEvents'));
  }
}
