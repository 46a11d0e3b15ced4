/** What the table needs of a client (an Aedes `Client`). */
export interface SessionClient {
  readonly id: string;
  readonly closed?: boolean;
}

export interface SessionHooks<C> {
  connected(client: C): void;
  disconnected(client: C): void;
}

/**
 * The clients of one broker, by client id, and their lifecycle as seen from outside: `connected`
 * once a session is ready, `disconnected` once for each `connected`, never before it. Aedes' own
 * events are not paired like that: a client whose socket dies while its CONNECT is still being
 * handled can be unregistered (its `clientDisconnect` emitted, and another client with the same id
 * removed from Aedes' table) without ever having been ready, and a storm of reconnects with one
 * client id drove a gauge counted from those events below zero.
 */
export class SessionTable<C extends SessionClient> {
  private readonly byId = new Map<string, C>();
  private readonly live = new Set<C>();

  constructor(private readonly hooks: SessionHooks<C>) {}

  /** Aedes registered the client under its id (it took over an older client with that id). */
  registered(client: C): void {
    this.byId.set(client.id, client);
  }

  /** The session is ready (CONNACK sent); ignored for a client already closed or announced. */
  ready(client: C): void {
    if (client.closed || this.live.has(client)) return;
    this.live.add(client);
    this.hooks.connected(client);
  }

  /** The client is gone (unregistered, or its connection closed); safe to call more than once. */
  gone(client: C): void {
    if (this.byId.get(client.id) === client) this.byId.delete(client.id);
    if (this.live.delete(client)) this.hooks.disconnected(client);
  }

  /** The client registered under an id, if any. */
  get(clientId: string): C | undefined {
    return this.byId.get(clientId);
  }

  /** Every registered client (ready or still connecting). */
  registeredClients(): C[] {
    return [...this.byId.values()];
  }

  /** Clients whose session is ready and not yet gone. */
  liveClients(): C[] {
    return [...this.live];
  }
}
