import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';

export interface ListenerOptions {
  host?: string;
  port: number;
  /** null or undefined: no WebSocket listener. */
  wsPort?: number | null;
  /** Largest WebSocket message accepted. */
  maxWsMessageBytes: number;
  warn(message: string): void;
}

/** The broker's TCP and WebSocket listeners. */
export interface Listeners {
  /** Binds the ports; resolves to the ports actually bound. */
  listen(): Promise<{ port: number; wsPort: number | null }>;
  /** Ends every connection (including those that never completed an MQTT CONNECT) and unbinds. */
  close(): Promise<void>;
}

function listen(server: NetServer | HttpServer, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.removeListener('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** Tracks a server's sockets, so close() can end those that never completed an MQTT CONNECT. */
function trackSockets(server: NetServer | HttpServer, sockets: Set<Socket>): void {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

/** MQTT over TCP, and over WebSocket (path `/`, any other HTTP request gets 426) when asked. */
export function createListeners(
  options: ListenerOptions,
  handle: (stream: Duplex, req?: IncomingMessage) => void,
): Listeners {
  const sockets = new Set<Socket>();
  const tcpServer = createNetServer((socket) => handle(socket));
  trackSockets(tcpServer, sockets);

  let httpServer: HttpServer | null = null;
  let wss: WebSocketServer | null = null;
  if (options.wsPort !== undefined && options.wsPort !== null) {
    httpServer = createHttpServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end('MQTT over WebSocket only\n');
    });
    trackSockets(httpServer, sockets);
    wss = new WebSocketServer({ server: httpServer, maxPayload: options.maxWsMessageBytes });
    wss.on('error', (err) => options.warn(`mqtt: WebSocket server error: ${err.message}`));
    wss.on('connection', (ws, req) => handle(createWebSocketStream(ws), req));
  }

  return {
    async listen() {
      const port = await listen(tcpServer, options.port, options.host);
      const wsPort = httpServer
        ? await listen(httpServer, options.wsPort ?? 0, options.host)
        : null;
      return { port, wsPort };
    },
    async close() {
      for (const ws of wss?.clients ?? []) ws.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
      await Promise.all([closeServer(tcpServer), httpServer ? closeServer(httpServer) : null]);
    },
  };
}
