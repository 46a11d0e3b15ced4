import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
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

export interface ListenerOptions {
  host?: string;
  /** Plain MQTT over TCP; null: none. */
  port: number | null;
  /** Plain MQTT over WebSocket; null or undefined: no WebSocket listener. */
  wsPort?: number | null;
  /** mqtts and wss, with a certificate re-read when its files change (see TlsReloader). */
  tls?: BrokerTlsOptions;
  /** Largest WebSocket message accepted. */
  maxWsMessageBytes: number;
  logger: TlsReloadLogger;
}

/** The ports actually bound; null for a listener that is not open. */
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

/** The broker's listeners: TCP, WebSocket, TLS and secure WebSocket. */
export interface Listeners {
  /** Binds the ports; resolves to the ports actually bound. */
  listen(): Promise<BoundPorts>;
  /** Ends every connection (including those that never completed an MQTT CONNECT) and unbinds. */
  close(): Promise<void>;
}

/** The bound ports for a log line, e.g. "1883/tcp, 8883/tls". */
export function describePorts(ports: BoundPorts): string {
  const bound: [number | null, string][] = [
    [ports.port, 'tcp'],
    [ports.wsPort, 'ws'],
    [ports.tlsPort, 'tls'],
    [ports.wssPort, 'wss'],
  ];
  return bound
    .filter(([port]) => port !== null)
    .map(([port, kind]) => `${port}/${kind}`)
    .join(', ');
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

/** Tracks a server's sockets, so close() can end those that never completed an MQTT CONNECT. */
function trackSockets(server: AnyServer, sockets: Set<Socket>): void {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

function upgradeOnly(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain' });
  res.end('MQTT over WebSocket only\n');
}

/**
 * MQTT over TCP, and over WebSocket (path `/`, any other HTTP request gets 426) when asked; with
 * `tls`, MQTT over TLS and secure WebSocket too. Throws TlsFilesError for unusable TLS files.
 */
export function createListeners(options: ListenerOptions, handle: ConnectionHandler): Listeners {
  const { logger } = options;
  const sockets = new Set<Socket>();
  const websockets: WebSocketServer[] = [];
  const track = <T extends AnyServer>(server: T): T => {
    trackSockets(server, sockets);
    return server;
  };
  const webSocketOn = (server: HttpServer, secure: boolean) => {
    const wss = new WebSocketServer({ server, maxPayload: options.maxWsMessageBytes });
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

  const tcpServer =
    options.port === null
      ? null
      : track(createNetServer((socket) => handle(socket, undefined, null)));
  let httpServer: HttpServer | null = null;
  if (options.wsPort !== undefined && options.wsPort !== null) {
    httpServer = track(createHttpServer(upgradeOnly));
    webSocketOn(httpServer, false);
  }

  const tls = options.tls;
  const reloader = tls ? new TlsReloader(tls.files, logger) : null;
  let tlsServer: NetServer | null = null;
  let httpsServer: HttpServer | null = null;
  if (tls && reloader) {
    // Client certificates are asked for, never demanded at the handshake: observers have none, and
    // the hub decides what a missing or untrusted certificate means (a refused CONNECT, with a reason).
    const tlsOptions = {
      ...reloader.options,
      requestCert: reloader.paths.clientCaFile !== undefined,
      rejectUnauthorized: false,
    };
    const server = createTlsServer(tlsOptions, (socket) =>
      handle(socket, undefined, peerCertificateOf(socket)),
    );
    server.on('tlsClientError', (err) => logger.info(`mqtt: TLS handshake failed: ${err.message}`));
    reloader.attach(server);
    tlsServer = track(server);
    if (tls.wsPort !== undefined && tls.wsPort !== null) {
      const secure = createHttpsServer(tlsOptions, upgradeOnly);
      reloader.attach(secure);
      httpsServer = track(secure);
      webSocketOn(httpsServer, true);
    }
  }
  const servers = [tcpServer, httpServer, tlsServer, httpsServer].filter(
    (server): server is AnyServer => server !== null,
  );

  return {
    async listen() {
      const bind = (server: AnyServer | null, port: number | null | undefined) =>
        server ? listen(server, port ?? 0, options.host) : Promise.resolve(null);
      return {
        port: await bind(tcpServer, options.port),
        wsPort: await bind(httpServer, options.wsPort),
        tlsPort: await bind(tlsServer, tls?.port),
        wssPort: await bind(httpsServer, tls?.wsPort),
      };
    },
    async close() {
      reloader?.close();
      for (const wss of websockets) for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        websockets.map((wss) => new Promise<void>((resolve) => wss.close(() => resolve()))),
      );
      await Promise.all(servers.map(closeServer));
    },
  };
}
