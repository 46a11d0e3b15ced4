import { Injectable, Logger } from '@nestjs/common';

export type TokenRevokedListener = (event: { tokenId: string }) => void;

/**
 * Tells who holds a session opened with an API token (the broker: MQTT observers) that the token
 * was revoked, after the deletion committed. In-process: another hub instance ends such sessions
 * only when they reconnect.
 */
@Injectable()
export class TokenEvents {
  private readonly logger = new Logger('TokenEvents');
  private readonly listeners = new Set<TokenRevokedListener>();

  /** Returns a function that removes the listener. */
  onRevoked(listener: TokenRevokedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  revoked(tokenId: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener({ tokenId });
      } catch (error) {
        this.logger.error(`a token revocation listener failed: ${(error as Error).message}`);
      }
    }
  }
}
