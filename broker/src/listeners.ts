import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import {
  peerCertificateOf,
  TlsReloader,
  type PeerCertificate,
  type TlsFilePaths,
  type TlsReloadLogger,
} from './tls.js';

/** MQTT over TLS (mqtts) and over secure WebSocket (wss), next to or instead of the plain ones. */
export interface BrokerTlsOptions {
  /** mqtts port; 0 picks a free one. */
  port: number;
  /** wss port; null or undefined: no secure WebSocket listener. */
  wsPort?: number | null;
  /** Server certificate and key, and the CA of device certificates (asked for only when set). */
  files: TlsFilePaths;
}

export interface ListenerSpec {
  host?: string;
  /** Plain MQTT over TCP; null: none. */
  port: number | null;
  wsPort: number | null;
  tls?: BrokerTlsOptions;
  /** Largest WebSocket message accepted. */
  maxPacket: number;
}

export interface BoundPorts {
  port: number | null;
  wsPort: number | null;
  tlsPort: number | null;
  wssPort: number | null;
}

/** A connection for the broker, with the client certificate it presented (TLS listeners only). */
export type ConnectionHandler = (
  stream: Duplex,
  req: IncomingMessage | undefined,
  peer: PeerCertificate | null,
) => void;

export interface Listeners {
  ports: BoundPorts;
  /** Ends every open connection, then closes the servers. */
  close(): Promise<void>;
}

type AnyServer = NetServer | HttpServer;

function listen(server: AnyServer, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.removeListener('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: AnyServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/**
 * Opens the broker's listeners: TCP and WebSocket (plain), and TLS and secure WebSocket when
 * `tls` is set, whose certificate is read again when its files change (see TlsReloader).
 */
export async function openListeners(
  spec: ListenerSpec,
  handle: ConnectionHandler,
  logger: TlsReloadLogger,
): Promise<Listeners> {
  const sockets = new Set<Socket>();
  const servers: AnyServer[] = [];
  const websockets: WebSocketServer[] = [];
  // Tracks every socket, so close() can end those that never completed an MQTT CONNECT.
  const track = <T extends AnyServer>(server: T): T => {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    servers.push(server);
    return server;
  };
  const webSocketOn = (server: HttpServer, secure: boolean) => {
    const wss = new WebSocketServer({ server, maxPayload: spec.maxPacket });
    wss.on('error', (err) => logger.warn(`mqtt: WebSocket server error: ${err.message}`));
    wss.on('connection', (ws, req) =>
      handle(
        createWebSocketStream(ws),
        req,
        secure ? peerCertificateOf(req.socket as TLSSocket) : null,
      ),
    );
    websockets.push(wss);
  };
  const upgradeOnly = (_req: IncomingMessage, res: import('node:http').ServerResponse) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('MQTT over WebSocket only\n');
  };

  const tcp =
    spec.port === null ? null : track(createNetServer((socket) => handle(socket, undefined, null)));
  let ws: HttpServer | null = null;
  if (spec.wsPort !== null) {
    ws = track(createHttpServer(upgradeOnly));
    webSocketOn(ws, false);
  }
  const reloader = spec.tls ? new TlsReloader(spec.tls.files, logger) : null;
  // Client certificates are asked for, never demanded at the handshake: observers have none, and
  // the hub decides what a missing or untrusted certificate means (a refused CONNECT, with a reason).
  const tlsOptions = reloader
    ? {
        ...reloader.options,
        requestCert: reloader.paths.clientCaFile !== undefined,
        rejectUnauthorized: false,
      }
    : null;
  let mqtts: NetServer | null = null;
  let wss: HttpServer | null = null;
  if (reloader && tlsOptions) {
    const server = createTlsServer(tlsOptions, (socket) =>
      handle(socket, undefined, peerCertificateOf(socket)),
    );
    server.on('tlsClientError', (err) => logger.info(`mqtt: TLS handshake failed: ${err.message}`));
    reloader.attach(server);
    mqtts = track(server);
    if (spec.tls?.wsPort !== undefined && spec.tls.wsPort !== null) {
      const secure = createHttpsServer(tlsOptions, upgradeOnly);
      reloader.attach(secure);
      wss = track(secure);
      webSocketOn(wss, true);
    }
  }

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      reloader?.close();
      for (const server of websockets) for (const client of server.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        websockets.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
      await Promise.all(servers.map(closeServer));
    })();
    return closing;
  };

  const ports: BoundPorts = { port: null, wsPort: null, tlsPort: null, wssPort: null };
  try {
    if (tcp) ports.port = await listen(tcp, spec.port ?? 0, spec.host);
    if (ws) ports.wsPort = await listen(ws, spec.wsPort ?? 0, spec.host);
    if (mqtts) ports.tlsPort = await listen(mqtts, spec.tls?.port ?? 0, spec.host);
    if (wss) ports.wssPort = await listen(wss, spec.tls?.wsPort ?? 0, spec.host);
  } catch (err) {
    await close();
    throw err;
  }
  return { ports, close };
}
