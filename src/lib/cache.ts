// The one cache idiom of the service, over lru-cache: bounded, one TTL rule, one load at a time
// per key (callers waiting for the same key share the load), a failed load is not kept.
import { LRUCache } from 'lru-cache';

export interface TtlCache<K, V> {
  /** The value kept for `key`, or a fresh one from `load` (shared with every caller waiting for it). */
  get(key: K): Promise<V>;
  /** The value kept for `key`, without loading. */
  peek(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  clear(): void;
}

export interface TtlCacheOptions<K, V> {
  /** How long a value is kept; 0 keeps nothing (every get loads), undefined keeps it until evicted. */
  ttlMs?: number;
  /** How many keys at most; the least recently used goes first. */
  max?: number;
  load?: (key: K) => Promise<V>;
}

export function createTtlCache<K extends {}, V extends {}>(options: TtlCacheOptions<K, V>): TtlCache<K, V> {
  const { ttlMs, max = 10_000, load } = options;
  const loadOrFail = (key: K): Promise<V> => {
    if (!load) throw new Error('this cache has no load function: use set() and peek()');
    return load(key);
  };
  if (ttlMs === 0) {
    return {
      get: loadOrFail,
      peek: () => undefined,
      set: () => undefined,
      delete: () => undefined,
      clear() {},
    };
  }
  /** Keys whose load is running. */
  const loading = new Set<K>();
  const cache = new LRUCache<K, V>({
    max,
    ...(ttlMs !== undefined ? { ttl: ttlMs } : {}),
    ...(load
      ? {
          fetchMethod: async (key: K) => {
            loading.add(key);
            try {
              return await load(key);
            } finally {
              loading.delete(key);
            }
          },
        }
      : {}),
    // A key deleted or expired while its load runs must not fail the callers waiting for that
    // load (lru-cache would reject them with "deleted"): they get what the load answers.
    ignoreFetchAbort: true,
  });
  return {
    async get(key) {
      if (!load) return cache.get(key) ?? Promise.reject(new Error(`nothing kept for ${String(key)}`));
      const joined = loading.has(key);
      let value: V | undefined;
      try {
        value = await cache.fetch(key);
      } catch (error) {
        // A load that another caller started may have begun before the source was back (e.g.
        // Keycloak during an outage): a caller that only joined it gets one load of its own.
        if (!joined) throw error;
        value = await cache.fetch(key);
      }
      if (value === undefined) throw new Error(`the cache loaded nothing for ${String(key)}`);
      return value;
    },
    peek: (key) => cache.get(key),
    set: (key, value) => {
      cache.set(key, value);
    },
    delete: (key) => {
      cache.delete(key);
    },
    clear: () => cache.clear(),
  };
}
