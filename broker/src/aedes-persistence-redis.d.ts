// aedes-persistence-redis ships no type declarations; this is the part create-broker uses.
declare module 'aedes-persistence-redis' {
  interface RedisPersistence {
    destroy(): Promise<void>;
  }
  function createRedisPersistence(options?: Record<string, unknown>): RedisPersistence;
  export = createRedisPersistence;
}
