// aedes-persistence (a dependency of aedes) declares only its callback interface; these are the
// modules indexed-persistence builds on: the in-memory persistence with promise methods, and the
// wrapper that gives it the callback interface as aedes' default persistence does.
declare module 'aedes-persistence/asyncPersistence.js' {
  import type { Readable } from 'node:stream';

  interface RetainedPacket {
    topic: string;
    payload: Buffer | string;
  }

  class MemoryPersistence {
    constructor(options?: Record<string, unknown>);
    setup(broker: unknown): Promise<void>;
    storeRetained(packet: RetainedPacket): Promise<void>;
    createRetainedStream(pattern: string): Readable;
    createRetainedStreamCombi(patterns: string[]): Readable;
    destroy(): Promise<void>;
  }
  export = MemoryPersistence;
}

declare module 'aedes-persistence/callBackPersistence.js' {
  /** An EventEmitter with aedes' persistence interface (callbacks or promises). */
  export class CallBackPersistence {
    constructor(
      asyncInstanceFactory: (options: Record<string, unknown>) => object,
      options?: Record<string, unknown>,
    );
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
  }
}

declare module 'aedes-persistence/abstract.js' {
  /** The abstract test suite every aedes persistence must pass. */
  function abstractPersistence(options: {
    test: (name: string, fn: (t: unknown) => Promise<void>) => unknown;
    persistence: () => object | Promise<object>;
    /** The persistence has the promise interface and gets the broker through setup(). */
    testAsync?: boolean;
    waitForReady?: boolean;
  }): void;
  export = abstractPersistence;
}
