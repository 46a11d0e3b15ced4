import { setTimeout as sleepMs } from 'node:timers/promises';
import { CliError, EXIT } from './cli-errors.js';
import {
  clean,
  formatDeploymentDetail,
  formatEventLine,
  formatHealthLine,
  formatProgressLine,
  formatTimeSeconds,
} from './deployment-output.js';
import {
  fetchDeploymentStatus,
  type DeploymentStatus,
  type StatusClient,
} from './deployment-status.js';
import { FINISHED_STATUSES, type DeploymentDetail } from './hub-api.js';
import { formatJson, type CliWritable } from './output.js';

const ESC = '\u001b[';

/**
 * A block of lines redrawn in place on a terminal: before each frame the cursor goes back up over
 * the previous frame (CUU) and erases to the end of the screen (ED). Lines are cut to the terminal
 * width and the frame to its height, so every line is exactly one row and the count stays right.
 */
export class LiveRegion {
  private drawnRows = 0;
  private drawn: string | undefined;

  constructor(private readonly stream: CliWritable) {}

  /** Replaces the previous frame with `text` (lines separated by \n). */
  render(text: string): void {
    // A pseudo-terminal may report 0 x 0 (size unknown): then 80 columns and no height limit.
    const columns = Math.max(this.stream.columns || 80, 10);
    let lines = text.replace(/\n$/, '').split('\n');
    const maxRows = this.stream.rows ? Math.max(this.stream.rows - 1, 2) : Infinity;
    if (lines.length > maxRows) lines = [...lines.slice(0, maxRows - 1), '…'];
    const frame = lines.map((line) => `${fitWidth(line, columns - 1)}\n`).join('');
    if (frame === this.drawn) return;
    this.stream.write(this.erase() + frame);
    this.drawn = frame;
    this.drawnRows = lines.length;
  }

  /** Erases the frame and writes `text` as ordinary output (not cut), which stays in the scrollback. */
  finish(text: string): void {
    this.stream.write(this.erase() + text);
    this.drawn = undefined;
    this.drawnRows = 0;
  }

  private erase(): string {
    return this.drawnRows > 0 ? `\r${ESC}${this.drawnRows}A${ESC}J` : '';
  }
}

/** Cuts a line to `width` characters (code points), ending it with … when cut. */
export function fitWidth(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, width - 1).join('')}…`;
}

/** How a followed deployment (with its health) is shown while it runs, and once it has ended. */
export interface WatchView {
  update(status: DeploymentStatus): void;
  finish(status: DeploymentStatus): void;
}

/** A terminal: the `deployment status` view redrawn in place, then left in full when it ends. */
export function terminalView(
  stream: CliWritable,
  intervalMs: number,
  now: () => Date = () => new Date(),
): WatchView {
  const region = new LiveRegion(stream);
  const every = `${intervalMs / 1000} s`;
  return {
    update(detail) {
      const footer = `updated ${formatTimeSeconds(now().toISOString())}, every ${every}; Ctrl-C stops watching (not the deployment)`;
      region.render(`${formatDeploymentDetail(detail)}${footer}\n`);
    },
    finish(detail) {
      region.finish(formatDeploymentDetail(detail));
    },
  };
}

/** What makes a new health log line: the verdict, what the rules did, or the health going away. */
function healthKey(status: DeploymentStatus): string {
  return status.health ? `${status.health.verdict} ${status.health.action}` : 'unavailable';
}

/**
 * A pipe or a file: one line per new deployment event, one each time the health verdict changes and
 * one each time the progress line changes, in that order, each starting with its time. Events that
 * happened before the first poll are not repeated; the first poll logs the health and the progress.
 */
export function logView(stream: CliWritable, now: () => Date = () => new Date()): WatchView {
  let seen: Set<string> | undefined;
  let last: string | undefined;
  let lastHealth: string | undefined;
  const update = (detail: DeploymentStatus) => {
    let out = '';
    if (seen === undefined) {
      seen = new Set(detail.events.map((event) => event.id));
    } else {
      for (const event of detail.events) {
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        out += `${formatEventLine(event)}\n`;
      }
    }
    const time = formatTimeSeconds(now().toISOString());
    const health = healthKey(detail);
    if (health !== lastHealth) {
      lastHealth = health;
      out += `${time}  ${formatHealthLine(detail)}\n`;
    }
    // The progress line comes last, so that the last line of a finished watch is the final status.
    const line = formatProgressLine(detail);
    if (line !== last) {
      last = line;
      out += `${time}  ${line}\n`;
    }
    if (out !== '') stream.write(out);
  };
  return { update, finish: update };
}

/** --json: nothing while it runs, the final status (with `health`) as one JSON document at the end. */
export function jsonView(stream: CliWritable): WatchView {
  return {
    update() {},
    finish(detail) {
      stream.write(formatJson(detail));
    },
  };
}

export function chooseView(
  stream: CliWritable,
  options: { json: boolean; intervalMs: number },
): WatchView {
  if (options.json) return jsonView(stream);
  return stream.isTTY === true ? terminalView(stream, options.intervalMs) : logView(stream);
}

export interface FollowOptions {
  intervalMs: number;
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Polls `GET /deployments/:id` and its health every interval, showing each answer, until the
 * deployment has ended; resolves to its final status. A failed deployment request ends the watch
 * with that request's error; a failed health request only shows the health as unavailable.
 */
export async function followDeployment(
  client: StatusClient,
  id: string,
  view: WatchView,
  options: FollowOptions,
): Promise<DeploymentStatus> {
  const sleep = options.sleep ?? sleepMs;
  for (;;) {
    const status = await fetchDeploymentStatus(client, id);
    if (FINISHED_STATUSES.includes(status.status)) {
      view.finish(status);
      return status;
    }
    view.update(status);
    await sleep(options.intervalMs);
  }
}

/** Exit 0 for a deployment that succeeded; otherwise a one-line error with its status and reason. */
export function requireSucceeded(detail: DeploymentDetail): void {
  if (detail.status === 'succeeded') return;
  const reason = detail.status_reason ? clean(detail.status_reason) : 'no reason given';
  throw new CliError(`deployment ${detail.id} ${detail.status}: ${reason}`, EXIT.FAILURE);
}
