/**
 * The one owner of artifact deletion. Artifacts are content-addressed, so every version with the same
 * bytes shares one object, and a push stores its bytes before it knows whether it will be registered.
 * Deleting "my upload's bytes" when a push fails is therefore wrong twice: a registered version may
 * already use them, or a concurrent push of the same bytes may be between storing them and inserting
 * its row. So nothing else deletes artifacts: a failed push or a deleted version hands its sha256 here
 * as a candidate, and a candidate is removed only while no push is in flight on this hub and no model
 * version refers to it. Candidates left while pushes are running are swept when the last one finishes.
 */
export class ArtifactJanitor {
  private inFlight = 0;
  private readonly candidates = new Set<string>();
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly isReferenced: (sha256: string) => Promise<boolean>,
    private readonly remove: (sha256: string) => Promise<void>,
    private readonly warn: (message: string) => void,
  ) {}

  /** Marks a push in flight; the returned function ends it (once) and sweeps if it was the last. */
  begin(): () => Promise<void> {
    this.inFlight++;
    let ended = false;
    return () => {
      if (ended) return Promise.resolve();
      ended = true;
      this.inFlight--;
      return this.sweep();
    };
  }

  /** Bytes that may have lost their last reference; removed now if nothing is in flight, else later. */
  discard(sha256: string): Promise<void> {
    this.candidates.add(sha256);
    return this.sweep();
  }

  /** Pushes running now (tests, metrics). */
  get pushesInFlight(): number {
    return this.inFlight;
  }

  private sweep(): Promise<void> {
    if (this.inFlight > 0 || this.candidates.size === 0) return this.sweeping ?? Promise.resolve();
    this.sweeping ??= this.drain().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async drain(): Promise<void> {
    while (this.inFlight === 0 && this.candidates.size > 0) {
      const [sha256] = this.candidates;
      this.candidates.delete(sha256);
      try {
        if (await this.isReferenced(sha256)) continue;
        // A push that began during the look-up may be storing these very bytes: keep them for its end.
        if (this.inFlight > 0) {
          this.candidates.add(sha256);
          return;
        }
        await this.remove(sha256);
      } catch (error) {
        this.warn(`could not remove unreferenced artifact ${sha256}: ${(error as Error).message}`);
      }
    }
  }
}
