import { Readable } from 'node:stream';
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';
import { CallBackPersistence } from 'aedes-persistence/callBackPersistence.js';
import { RetainedIndex } from './retained-index.js';

interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

/**
 * Aedes' own in-memory persistence (aedes-persistence 11: subscriptions in a qlobber trie, queues
 * and wills in Maps) with its retained messages in a RetainedIndex instead of one Map that every
 * SUBSCRIBE scanned in full. Storing a retained message behaves as upstream: a copy is kept, an
 * empty payload removes it ([MQTT-3.3.1-10]).
 */
export class IndexedRetainedPersistence extends MemoryPersistence {
  readonly #retained = new RetainedIndex<RetainedPacket>();

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    const copy = { ...packet };
    if (copy.payload.length === 0) this.#retained.delete(copy.topic);
    else this.#retained.set(copy.topic, copy);
  }

  override createRetainedStream(pattern: string): Readable {
    return Readable.from(this.#retained.match([pattern]));
  }

  /** Each retained message once, even when several of the patterns match its topic. */
  override createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(this.#retained.match(patterns));
  }

  override async destroy(): Promise<void> {
    await super.destroy();
    this.#retained.clear();
  }
}

/**
 * The broker's persistence when it runs alone (the cluster uses aedes-persistence-redis, whose
 * look-up of a topic without wildcards is one HGET already): wrapped for aedes exactly as its
 * default `aedes-persistence()` wraps the upstream in-memory one.
 */
export function createIndexedPersistence(): CallBackPersistence {
  return new CallBackPersistence((options) => new IndexedRetainedPersistence(options), {});
}
