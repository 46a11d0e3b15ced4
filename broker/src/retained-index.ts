/**
 * Retained messages by topic, looked up by topic filter without scanning the whole store.
 *
 * Aedes' in-memory persistence keeps retained messages in one Map and tests every stored topic
 * against the filter of each new subscription. Every device keeps a retained state topic of its
 * own, so a reconnect storm of N devices did N subscriptions x N topics of work: the hub's connect
 * rate fell as the fleet grew. Here a filter without wildcards is one Map look-up, and a filter
 * with wildcards walks a trie of topic levels, visiting only the branches it can match.
 *
 * Matching follows MQTT 3.1.1 section 4.7: `+` matches exactly one level (an empty one too), `#`
 * (last) matches the parent level and any number of levels below it, and a filter starting with a
 * wildcard does not match topics starting with `$` [MQTT-4.7.2-1].
 */

interface TrieNode<V> {
  children: Map<string, TrieNode<V>> | null;
  value: V | undefined;
}

const SEPARATOR = '/';

function node<V>(): TrieNode<V> {
  return { children: null, value: undefined };
}

function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

export class RetainedIndex<V> {
  private readonly exact = new Map<string, V>();
  private readonly root: TrieNode<V> = node();

  get size(): number {
    return this.exact.size;
  }

  /** Stores (or replaces) the value of a concrete topic. */
  set(topic: string, value: V): void {
    this.exact.set(topic, value);
    let current = this.root;
    for (const level of topic.split(SEPARATOR)) {
      current.children ??= new Map();
      let next = current.children.get(level);
      if (!next) {
        next = node();
        current.children.set(level, next);
      }
      current = next;
    }
    current.value = value;
  }

  /** Removes a topic's value, and the branches of the trie it leaves empty. */
  delete(topic: string): boolean {
    if (!this.exact.delete(topic)) return false;
    const path: TrieNode<V>[] = [this.root];
    const levels = topic.split(SEPARATOR);
    for (const level of levels) {
      const next = path[path.length - 1].children?.get(level);
      if (!next) return true; // cannot happen: the Map and the trie are written together
      path.push(next);
    }
    path[path.length - 1].value = undefined;
    for (let i = levels.length; i > 0; i--) {
      const child = path[i];
      if (child.value !== undefined || (child.children && child.children.size > 0)) break;
      const parent = path[i - 1];
      parent.children!.delete(levels[i - 1]);
      if (parent.children!.size === 0) parent.children = null;
    }
    return true;
  }

  clear(): void {
    this.exact.clear();
    this.root.children = null;
  }

  /**
   * The values of every topic matched by at least one of the filters, each once, filter by
   * filter; a snapshot (later changes to the index do not show in it).
   */
  match(filters: readonly string[]): V[] {
    const found: V[] = [];
    const seen = filters.length > 1 ? new Set<V>() : null;
    const emit = (value: V) => {
      if (seen) {
        if (seen.has(value)) return;
        seen.add(value);
      }
      found.push(value);
    };
    for (const filter of filters) {
      if (!hasWildcard(filter)) {
        const value = this.exact.get(filter);
        if (value !== undefined) emit(value);
      } else {
        this.walk(this.root, filter.split(SEPARATOR), 0, emit);
      }
    }
    return found;
  }

  private walk(at: TrieNode<V>, levels: string[], i: number, emit: (value: V) => void): void {
    if (i === levels.length) {
      if (at.value !== undefined) emit(at.value);
      return;
    }
    const level = levels[i];
    if (level === '#') {
      // The parent level itself ("a/#" matches "a"), then everything below.
      if (i > 0 && at.value !== undefined) emit(at.value);
      this.everythingBelow(at, i === 0, emit);
      return;
    }
    if (!at.children) return;
    if (level === '+') {
      for (const [name, child] of at.children) {
        if (i === 0 && name.startsWith('$')) continue;
        this.walk(child, levels, i + 1, emit);
      }
      return;
    }
    const child = at.children.get(level);
    if (child) this.walk(child, levels, i + 1, emit);
  }

  private everythingBelow(at: TrieNode<V>, skipDollar: boolean, emit: (value: V) => void): void {
    if (!at.children) return;
    // An explicit stack: the depth of the trie is the number of levels of the longest topic.
    const stack: TrieNode<V>[] = [];
    for (const [name, child] of at.children) {
      if (skipDollar && name.startsWith('$')) continue;
      stack.push(child);
    }
    stack.reverse();
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (current.value !== undefined) emit(current.value);
      if (current.children) {
        const children = [...current.children.values()];
        for (let j = children.length - 1; j >= 0; j--) stack.push(children[j]);
      }
    }
  }
}
