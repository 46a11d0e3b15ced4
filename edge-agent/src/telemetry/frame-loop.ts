/**
 * Synthetic frames at a target rate, one at a time: a frame starts when its slot in the schedule
 * comes and the previous one has finished, so a slow model shows as a lower FPS, as on a camera
 * pipeline that drops frames it cannot keep up with.
 */
export class FrameLoop {
  private running = false;
  private done?: Promise<void>;
  private wake?: NodeJS.Timeout;
  private resolveWait?: () => void;

  constructor(
    private readonly fps: number,
    private readonly frame: () => Promise<void>,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.wake) clearTimeout(this.wake);
    this.resolveWait?.();
    await this.done;
  }

  private async loop(): Promise<void> {
    const period = 1000 / this.fps;
    let next = performance.now();
    while (this.running) {
      await this.frame().catch(() => undefined);
      next += period;
      const now = performance.now();
      if (next < now) next = now; // behind schedule: skip the missed frames
      const wait = next - now;
      await new Promise<void>((resolve) => {
        this.resolveWait = resolve;
        this.wake = setTimeout(resolve, wait);
      });
    }
  }
}
