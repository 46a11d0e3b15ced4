import type { DownloadProgress } from './downloader.js';

/**
 * Throttles progress reports: one when at least `step` of the total arrived since the last report
 * (1 % by default, so at most ~100 for a fast transfer) or, while bytes keep arriving, when
 * `intervalMs` passed (a slow link still shows movement). The last byte is always reported.
 */
export class ProgressThrottle {
  private lastBytes = -1;
  private lastAt = -Infinity;

  constructor(
    private readonly total: number,
    private readonly emit: (progress: DownloadProgress) => void,
    private readonly intervalMs = 250,
    private readonly step = 0.01,
    private readonly now: () => number = () => performance.now(),
  ) {}

  report(bytes: number): void {
    if (bytes === this.lastBytes) return;
    const at = this.now();
    const due =
      this.lastBytes < 0 ||
      bytes >= this.total ||
      bytes - this.lastBytes >= this.total * this.step ||
      bytes < this.lastBytes || // restarted from zero
      at - this.lastAt >= this.intervalMs;
    if (!due) return;
    this.lastBytes = bytes;
    this.lastAt = at;
    this.emit({ bytes, total: this.total });
  }
}
