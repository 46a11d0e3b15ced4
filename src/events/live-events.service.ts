import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Response } from 'express';
import { TokenEvents } from '../auth/token-events.js';
import { DeploymentEvents } from '../deployments/deployment-events.js';
import { FleetEvents } from '../fleet/fleet-events.js';
import { RegistryEvents } from '../registry/registry-events.js';
import { EventCoalescer } from './domain/event-coalescer.js';
import { SSE_PING, SSE_START, sseMessage } from './domain/sse.js';

const PING_MS = 15_000;
/** A client this far behind (bytes it has not read) is dropped; it reconnects and re-fetches. */
const MAX_BUFFERED_BYTES = 1_000_000;

interface Client {
  tokenId: string;
  response: Response;
}

/**
 * The live events of GET /api/v1/events: listens to the fleet, deployments, registry (in this
 * process), coalesces their changes (EventCoalescer: a rollout of thousands of devices is a few
 * events a second) and writes the same events to every open stream. A stream whose token is
 * deleted is closed. With several hub instances each one streams what it hears itself.
 */
@Injectable()
export class LiveEvents implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('LiveEvents');
  private readonly clients = new Set<Client>();
  private readonly coalescer = new EventCoalescer();
  private readonly unsubscribe: (() => void)[] = [];
  private due?: NodeJS.Timeout;
  private ping?: NodeJS.Timeout;

  constructor(
    private readonly fleet: FleetEvents,
    private readonly deployments: DeploymentEvents,
    private readonly registry: RegistryEvents,
    private readonly tokens: TokenEvents,
  ) {}

  onApplicationBootstrap(): void {
    const devices = (ids: Iterable<string>) =>
      this.changed(() => this.coalescer.devicesChanged(ids));
    const device = ({ deviceId }: { deviceId: string }) => devices([deviceId]);
    this.unsubscribe.push(
      this.fleet.on('device.reports', ({ reports }) => devices(reports.map((r) => r.deviceId))),
      this.fleet.on('device.created', device),
      this.fleet.on('device.updated', device),
      this.fleet.on('device.moved', device),
      this.fleet.on('device.credentials_rotated', device),
      this.fleet.on('device.deleted', device),
      this.fleet.on('group.deleted', ({ deviceIds }) => devices(deviceIds)),
      this.deployments.on('deployment.changed', ({ id, status }) =>
        this.changed(() => this.coalescer.deployment(id, status)),
      ),
      this.registry.on('model.changed', ({ id }) => this.changed(() => this.coalescer.model(id))),
      this.tokens.onRevoked(({ tokenId }) => this.closeToken(tokenId)),
    );
    this.ping = setInterval(() => this.broadcast(SSE_PING), PING_MS).unref();
  }

  onModuleDestroy(): void {
    // Before the HTTP server closes: it waits for open connections, and a stream never ends.
    for (const off of this.unsubscribe.splice(0)) off();
    clearInterval(this.ping);
    clearTimeout(this.due);
    for (const client of [...this.clients]) this.close(client);
  }

  /** Open streams (tests, /metrics). */
  get streams(): number {
    return this.clients.size;
  }

  /** Starts a stream on `response` for the token; it lasts until the client goes or is closed. */
  open(tokenId: string, response: Response): void {
    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache, no-transform');
    // nginx and friends would otherwise hold the events back in their buffers.
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    // The pings keep it from being idle; a peer that vanished is found by TCP keepalive.
    response.socket?.setTimeout(0);
    response.socket?.setKeepAlive(true, 30_000);
    response.write(SSE_START);
    const client: Client = { tokenId, response };
    this.clients.add(client);
    response.once('close', () => this.clients.delete(client));
  }

  /** Records a change (only while someone listens) and sends what is due. */
  private changed(record: () => void): void {
    if (this.clients.size === 0) return;
    record();
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.due);
    this.due = undefined;
    const now = Date.now();
    const { events, nextAt } = this.coalescer.take(now);
    if (events.length > 0) this.broadcast(events.map(sseMessage).join(''));
    if (nextAt !== null) this.due = setTimeout(() => this.flush(), Math.max(0, nextAt - now));
  }

  private broadcast(text: string): void {
    for (const client of [...this.clients]) {
      if (client.response.writableLength > MAX_BUFFERED_BYTES) {
        this.logger.warn('closed an event stream whose client stopped reading');
        this.close(client);
        continue;
      }
      client.response.write(text);
    }
  }

  private closeToken(tokenId: string): void {
    const mine = [...this.clients].filter((c) => c.tokenId === tokenId);
    for (const client of mine) this.close(client);
    if (mine.length > 0) this.logger.log(`closed ${mine.length} event stream(s): token revoked`);
  }

  private close(client: Client): void {
    this.clients.delete(client);
    client.response.end();
  }
}
