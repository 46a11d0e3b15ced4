import { Injectable, Logger } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';

export type TokenRevokedListener = (event: { tokenId: string }) => void;

/**
 * Tells who holds a session opened with an API token (the broker: MQTT observers) that the token
 * was revoked, after the deletion committed: on this hub at once, and through the ClusterBus on
 * every other hub of a cluster (REDIS_URL) as soon as the event arrives.
 */
@Injectable()
export class TokenEvents {
  private readonly logger = new Logger('TokenEvents');
  private readonly listeners = new Set<TokenRevokedListener>();

  constructor(private readonly cluster: ClusterBus) {
    cluster.on('token.revoked', ({ tokenId }) => this.notify(tokenId));
  }

  /** Returns a function that removes the listener. */
  onRevoked(listener: TokenRevokedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  revoked(tokenId: string): void {
    this.cluster.publish('token.revoked', { tokenId });
  }

  private notify(tokenId: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener({ tokenId });
      } catch (error) {
        this.logger.error(`a token revocation listener failed: ${(error as Error).message}`);
      }
    }
  }
}
