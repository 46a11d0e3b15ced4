import { Injectable, Logger } from '@nestjs/common';
import { InProcessEvents } from '../common/in-process-events.js';

export interface RegistryEventMap {
  /** A model version was pushed, changed (stage, tags, metadata) or deleted; after the commit. */
  'model.changed': { id: string; change: 'pushed' | 'updated' | 'deleted' };
}

/** What happens in the registry, for listeners in this process (the live events stream). */
@Injectable()
export class RegistryEvents extends InProcessEvents<RegistryEventMap> {
  constructor() {
    super(new Logger('RegistryEvents'));
  }
}
